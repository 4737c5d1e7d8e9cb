using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

[Collection("Claude environment")]
public sealed class DescribeBatchCommandTests : IAsyncLifetime
{
    private const string Key = "sk-ant-describe-batch-3b7f-SECRET";
    private ClaudeTestBed _bed = null!;

    public async Task InitializeAsync()
    {
        _bed = await ClaudeTestBed.StartAsync(Key);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task BatchThenCollect_StoresDescriptions_ASecondBatchSubmitsNothing_KeyNowhere()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        var ok = await _bed.AddImageAsync("ok.jpg");
        var bad = await _bed.AddImageAsync("bad.jpg");
        await _bed.AddImageAsync("missing.jpg", write: false);
        _bed.Fake.BatchesEnded = false;
        // A broken gateway echoing the key in an item's error must not make it leak either.
        _bed.Fake.Behavior = (_, request) => _bed.Fake.BatchRequests.Count == 2
            ? new FakeReply((System.Net.HttpStatusCode)400, Text: request.ApiKey)
            : FakeReply.Ok("batched words");

        var submit = await CliRun.InvokeAsync("describe", "--all", "--batch", "--connection", _bed.Database.ConnectionString);
        var resubmit = await CliRun.InvokeAsync("describe", "--all", "--batch", "--connection", _bed.Database.ConnectionString);
        var early = await CliRun.InvokeAsync("describe", "--collect", "--connection", _bed.Database.ConnectionString);
        _bed.Fake.BatchesEnded = true;
        var collect = await CliRun.InvokeAsync("describe", "--collect", "--json", "--connection", _bed.Database.ConnectionString);

        Assert.Equal(1, submit.ExitCode); // the missing file failed
        Assert.Contains("submitted 2 images in 1 batches", submit.Error);
        Assert.Contains("failed 1", submit.Error);
        Assert.Contains("submitted 0 images in 0 batches", resubmit.Error); // the unreadable file is tried (and fails) again
        Assert.Contains("skipped 0, failed 1", resubmit.Error);
        Assert.Equal(1, _bed.Fake.BatchCount);
        Assert.Equal(0, early.ExitCode);
        Assert.Contains("in_progress: not ended yet, nothing stored", early.Out);
        Assert.Contains("collected 0 batches", early.Error);
        Assert.Contains("\"described\": 1", collect.Out);
        Assert.Equal("batched words", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {ok}"));
        Assert.Null(await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {bad}"));
        Assert.NotNull(await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {bad}"));
        Assert.Empty(_bed.Fake.Requests);
        Assert.DoesNotContain(Key, string.Concat(submit.Out, submit.Error, resubmit.Out, resubmit.Error, early.Out, early.Error, collect.Out, collect.Error));
        foreach (var table in new[] { "gallery.image_gallery", "gallery.describe_batches", "gallery.describe_batch_items" })
        {
            Assert.DoesNotContain(Key, await _bed.Database.ScalarAsync<string>($"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t") ?? "");
        }
    }

    [Fact]
    public async Task BatchAndCollectTogether_AreRefused()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);

        var run = await CliRun.InvokeAsync("describe", "--batch", "--collect", "--connection", _bed.Database.ConnectionString);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("cannot be combined", run.Error);
    }
}
