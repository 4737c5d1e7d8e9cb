using DbFirst.Runner.Bench;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

[Collection("Claude environment")]
public sealed class DescribeBatchCommandTests : IAsyncLifetime
{
    private const string Key = "sk-ant-describe-batch-3b7f-SECRET";
    private readonly string _folder = Directory.CreateTempSubdirectory("dbfirst-describe-batch-").FullName;
    private TestDatabase _database = null!;
    private FakeMessagesApi _fake = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _fake = await FakeMessagesApi.StartAsync(Key);
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        await _database.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task BatchThenCollect_StoresDescriptions_ASecondBatchSubmitsNothing_KeyNowhere()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        var ok = await AddImageAsync("ok.jpg");
        var bad = await AddImageAsync("bad.jpg");
        await AddImageAsync("missing.jpg", write: false);
        _fake.BatchesEnded = false;
        // A broken gateway echoing the key in an item's error must not make it leak either.
        _fake.Behavior = (_, request) => _fake.BatchRequests.Count == 2
            ? new FakeReply((System.Net.HttpStatusCode)400, Text: request.ApiKey)
            : FakeReply.Ok("batched words");

        var submit = await CliRun.InvokeAsync("describe", "--all", "--batch", "--connection", _database.ConnectionString);
        var resubmit = await CliRun.InvokeAsync("describe", "--all", "--batch", "--connection", _database.ConnectionString);
        var early = await CliRun.InvokeAsync("describe", "--collect", "--connection", _database.ConnectionString);
        _fake.BatchesEnded = true;
        var collect = await CliRun.InvokeAsync("describe", "--collect", "--json", "--connection", _database.ConnectionString);

        Assert.Equal(1, submit.ExitCode); // the missing file failed
        Assert.Contains("submitted 2 images in 1 batches", submit.Error);
        Assert.Contains("failed 1", submit.Error);
        Assert.Contains("submitted 0 images in 0 batches", resubmit.Error); // the unreadable file is tried (and fails) again
        Assert.Contains("skipped 0, failed 1", resubmit.Error);
        Assert.Equal(1, _fake.BatchCount);
        Assert.Equal(0, early.ExitCode);
        Assert.Contains("in_progress: not ended yet, nothing stored", early.Out);
        Assert.Contains("collected 0 batches", early.Error);
        Assert.Contains("\"described\": 1", collect.Out);
        Assert.Equal("batched words", await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {ok}"));
        Assert.Null(await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {bad}"));
        Assert.NotNull(await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {bad}"));
        Assert.Empty(_fake.Requests);
        Assert.DoesNotContain(Key, string.Concat(submit.Out, submit.Error, resubmit.Out, resubmit.Error, early.Out, early.Error, collect.Out, collect.Error));
        foreach (var table in new[] { "gallery.image_gallery", "gallery.describe_batches", "gallery.describe_batch_items" })
        {
            Assert.DoesNotContain(Key, await _database.ScalarAsync<string>($"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t") ?? "");
        }
    }

    [Fact]
    public async Task BatchAndCollectTogether_AreRefused()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);

        var run = await CliRun.InvokeAsync("describe", "--batch", "--collect", "--connection", _database.ConnectionString);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("cannot be combined", run.Error);
    }

    private async Task<long> AddImageAsync(string name, bool write = true)
    {
        var path = Path.Combine(_folder, name);
        if (write)
        {
            await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(200, 100));
        }

        return await _database.ScalarAsync<long>($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}') RETURNING id");
    }
}
