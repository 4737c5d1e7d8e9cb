using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

[Collection("Claude environment")]
public sealed class DescribeCommandTests : IAsyncLifetime
{
    private const string Key = "sk-ant-describe-test-5d1e-SECRET";
    private ClaudeTestBed _bed = null!;

    public async Task InitializeAsync()
    {
        _bed = await ClaudeTestBed.StartAsync(Key);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task NoKey_DescribeAndAskStopAtOnce_OtherCommandsWork()
    {
        using var environment = new ClaudeEnvironment(apiKey: null, _bed.Fake.BaseUrl);
        await _bed.AddImageAsync("a.jpg");

        var describe = await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);
        var ask = await CliRun.InvokeAsync("ask", "what is red?", "--connection", _bed.Database.ConnectionString);
        var list = await CliRun.InvokeAsync("migrate", "list", "--connection", _bed.Database.ConnectionString);

        foreach (var run in new[] { describe, ask })
        {
            Assert.Equal(1, run.ExitCode);
            var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("dbfirst: no Anthropic API key: set ANTHROPIC_API_KEY", line);
        }

        Assert.Empty(_bed.Fake.Requests);
        Assert.Equal(0, list.ExitCode);
    }

    [Fact]
    public async Task Describe_StoresDescriptionTokensAndModel_AndASecondRunMakesNoCall()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        var id = await _bed.AddImageAsync("big.jpg", TestImages.WithExifOrientation(TestImages.SplitRedBlue(3000, 2000), 6));
        var png = await _bed.AddImageAsync("clear.png", TestImages.SplitRedBlue(300, 300, SkiaSharp.SKEncodedImageFormat.Png, alpha: 128));

        var first = await CliRun.InvokeAsync("describe", id.ToString(), png.ToString(), "--connection", _bed.Database.ConnectionString);
        var second = await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);
        var named = await CliRun.InvokeAsync("describe", id.ToString(), "--connection", _bed.Database.ConnectionString);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("described 2, skipped 0, failed 0", first.Error);
        Assert.Equal(2, _bed.Fake.Requests.Count);
        Assert.Empty(_bed.Fake.Problems);
        Assert.All(_bed.Fake.Requests, r =>
        {
            Assert.Equal(Key, r.ApiKey);
            Assert.Equal("image/jpeg", Assert.Single(r.Images).MediaType);
            Assert.Contains("Describe this photo", Assert.Single(r.Texts));
        });
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("0 calls", second.Error);
        Assert.Equal(0, named.ExitCode);
        Assert.Contains("skipped 1", named.Error);
        Assert.Equal(2, _bed.Fake.Requests.Count);
        Assert.Equal("claude-sonnet-5-5", await _bed.Database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
        Assert.StartsWith("A test description", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.True(await _bed.Database.ScalarAsync<long>($"SELECT describe_input_tokens FROM gallery.image_gallery WHERE id = {id}") > 0);
        Assert.True(await _bed.Database.ScalarAsync<long>($"SELECT describe_output_tokens FROM gallery.image_gallery WHERE id = {id}") > 0);
        Assert.True(await _bed.Database.ScalarAsync<bool>($"SELECT described_at IS NOT NULL AND describe_error IS NULL FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_ForceOrAnotherModel_DescribesAgain()
    {
        var id = await _bed.AddImageAsync("a.jpg");
        using (new ClaudeEnvironment(Key, _bed.Fake.BaseUrl))
        {
            await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);
            var forced = await CliRun.InvokeAsync("describe", id.ToString(), "--force", "--connection", _bed.Database.ConnectionString);
            Assert.Contains("described 1", forced.Error);
        }

        using (new ClaudeEnvironment(Key, _bed.Fake.BaseUrl, model: "claude-opus-5-5"))
        {
            var otherModel = await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);
            Assert.Contains("described 1", otherModel.Error);
        }

        Assert.Equal(3, _bed.Fake.Requests.Count);
        Assert.Equal("claude-opus-5-5", _bed.Fake.Requests[^1].Model);
        Assert.Equal("claude-opus-5-5", await _bed.Database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_FailureAfterRetries_RecordsErrorAndKeepsTheOldDescription()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        var id = await _bed.AddImageAsync("a.jpg");
        await _bed.Database.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'old words', description_model = 'claude-old' WHERE id = {id}");
        _bed.Fake.Behavior = (_, _) => FakeReply.Error(529);

        var run = await CliRun.InvokeAsync("describe", "--all", "--json", "--connection", _bed.Database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(3, _bed.Fake.Requests.Count);
        Assert.Contains("\"status\": \"failed\"", run.Out);
        Assert.Equal("old words", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Equal("claude-old", await _bed.Database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Contains("529", await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Equal(1, await _bed.Database.ScalarAsync<int>($"SELECT describe_attempts FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_MalformedResponse_NeverBecomesADescription()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        var id = await _bed.AddImageAsync("a.jpg");
        _bed.Fake.Behavior = (_, _) => FakeReply.Malformed("""{"type":"message","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}""");

        var run = await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Null(await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.NotNull(await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_401_StopsTheRunWithOneLine_NoRetry_KeyNowhere()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        for (var i = 0; i < 5; i++)
        {
            await _bed.AddImageAsync($"{i}.jpg");
        }

        // A hostile or broken gateway echoing the key must not make it leak either.
        _bed.Fake.Behavior = (_, request) => new FakeReply(System.Net.HttpStatusCode.Unauthorized,
            RawBody: "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid key " + request.ApiKey + "\"}}");

        var run = await CliRun.InvokeAsync("describe", "--all", "--connection", _bed.Database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("dbfirst: describe stopped: Claude answered 401", line);
        Assert.InRange(_bed.Fake.Requests.Count, 1, 4); // at most the calls already in flight (concurrency 4), none retried
        Assert.DoesNotContain(Key, run.Out + run.Error);
        Assert.Equal(0L, await _bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE describe_error IS NOT NULL OR description IS NOT NULL"));
    }

    [Fact]
    public async Task Describe_KeyAppearsInNoOutputOrTable()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        await _bed.AddImageAsync("ok.jpg");
        await _bed.AddImageAsync("fails.jpg");
        await _bed.AddImageAsync("missing.jpg", write: false);
        _bed.Fake.Behavior = (_, request) => request.Images.Count == 1 && _bed.Fake.Requests.Count(r => r.Images.Count == 1) > 1
            ? new FakeReply((System.Net.HttpStatusCode)400, RawBody: null)
            : FakeReply.Ok("fine");

        var run = await CliRun.InvokeAsync("describe", "--all", "--json", "--connection", _bed.Database.ConnectionString);

        Assert.DoesNotContain(Key, run.Out + run.Error);
        var tableText = await _bed.Database.ScalarAsync<string>(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM gallery.image_gallery) t") ?? "";
        Assert.DoesNotContain(Key, tableText);
        Assert.Contains("cannot read the image", tableText);
    }

    [Fact]
    public async Task RequestDescription_MarksAnImage_AndDescribeWithoutIdsTakesIt()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        var wanted = await _bed.AddImageAsync("wanted.jpg");
        await _bed.AddImageAsync("other.jpg");

        Assert.True(await _bed.Database.ScalarAsync<bool>($"SELECT gallery.request_description({wanted})"));
        Assert.Null(await _bed.Database.ScalarAsync<bool?>("SELECT gallery.request_description(-1)"));
        var run = await CliRun.InvokeAsync("describe", "--connection", _bed.Database.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("described 1", run.Error);
        Assert.True(await _bed.Database.ScalarAsync<bool>($"SELECT description IS NOT NULL AND describe_requested_at IS NULL FROM gallery.image_gallery WHERE id = {wanted}"));
        Assert.Equal(1L, await _bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE description IS NOT NULL"));
    }
}
