using DbFirst.Runner.Bench;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

[Collection("Claude environment")]
public sealed class DescribeCommandTests : IAsyncLifetime
{
    private const string Key = "sk-ant-describe-test-5d1e-SECRET";
    private readonly string _folder = Directory.CreateTempSubdirectory("dbfirst-describe-").FullName;
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
    public async Task NoKey_DescribeAndAskStopAtOnce_OtherCommandsWork()
    {
        using var environment = new ClaudeEnvironment(apiKey: null, _fake.BaseUrl);
        await AddImageAsync("a.jpg");

        var describe = await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);
        var ask = await CliRun.InvokeAsync("ask", "what is red?", "--connection", _database.ConnectionString);
        var list = await CliRun.InvokeAsync("migrate", "list", "--connection", _database.ConnectionString);

        foreach (var run in new[] { describe, ask })
        {
            Assert.Equal(1, run.ExitCode);
            var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("dbfirst: no Anthropic API key: set ANTHROPIC_API_KEY", line);
        }

        Assert.Empty(_fake.Requests);
        Assert.Equal(0, list.ExitCode);
    }

    [Fact]
    public async Task Describe_StoresDescriptionTokensAndModel_AndASecondRunMakesNoCall()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        var id = await AddImageAsync("big.jpg", TestImages.WithExifOrientation(TestImages.SplitRedBlue(3000, 2000), 6));
        var png = await AddImageAsync("clear.png", TestImages.SplitRedBlue(300, 300, SkiaSharp.SKEncodedImageFormat.Png, alpha: 128));

        var first = await CliRun.InvokeAsync("describe", id.ToString(), png.ToString(), "--connection", _database.ConnectionString);
        var second = await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);
        var named = await CliRun.InvokeAsync("describe", id.ToString(), "--connection", _database.ConnectionString);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("described 2, skipped 0, failed 0", first.Error);
        Assert.Equal(2, _fake.Requests.Count);
        Assert.Empty(_fake.Problems);
        Assert.All(_fake.Requests, r =>
        {
            Assert.Equal(Key, r.ApiKey);
            Assert.Equal("image/jpeg", Assert.Single(r.Images).MediaType);
            Assert.Contains("Describe this photo", Assert.Single(r.Texts));
        });
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("0 calls", second.Error);
        Assert.Equal(0, named.ExitCode);
        Assert.Contains("skipped 1", named.Error);
        Assert.Equal(2, _fake.Requests.Count);
        Assert.Equal("claude-sonnet-5-5", await _database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
        Assert.StartsWith("A test description", await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.True(await _database.ScalarAsync<long>($"SELECT describe_input_tokens FROM gallery.image_gallery WHERE id = {id}") > 0);
        Assert.True(await _database.ScalarAsync<long>($"SELECT describe_output_tokens FROM gallery.image_gallery WHERE id = {id}") > 0);
        Assert.True(await _database.ScalarAsync<bool>($"SELECT described_at IS NOT NULL AND describe_error IS NULL FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_ForceOrAnotherModel_DescribesAgain()
    {
        var id = await AddImageAsync("a.jpg");
        using (new ClaudeEnvironment(Key, _fake.BaseUrl))
        {
            await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);
            var forced = await CliRun.InvokeAsync("describe", id.ToString(), "--force", "--connection", _database.ConnectionString);
            Assert.Contains("described 1", forced.Error);
        }

        using (new ClaudeEnvironment(Key, _fake.BaseUrl, model: "claude-opus-5-5"))
        {
            var otherModel = await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);
            Assert.Contains("described 1", otherModel.Error);
        }

        Assert.Equal(3, _fake.Requests.Count);
        Assert.Equal("claude-opus-5-5", _fake.Requests[^1].Model);
        Assert.Equal("claude-opus-5-5", await _database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_FailureAfterRetries_RecordsErrorAndKeepsTheOldDescription()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        var id = await AddImageAsync("a.jpg");
        await _database.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'old words', description_model = 'claude-old' WHERE id = {id}");
        _fake.Behavior = (_, _) => FakeReply.Error(529);

        var run = await CliRun.InvokeAsync("describe", "--all", "--json", "--connection", _database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(3, _fake.Requests.Count);
        Assert.Contains("\"status\": \"failed\"", run.Out);
        Assert.Equal("old words", await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Equal("claude-old", await _database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Contains("529", await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Equal(1, await _database.ScalarAsync<int>($"SELECT describe_attempts FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_MalformedResponse_NeverBecomesADescription()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        var id = await AddImageAsync("a.jpg");
        _fake.Behavior = (_, _) => FakeReply.Malformed("""{"type":"message","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}""");

        var run = await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Null(await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.NotNull(await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_401_StopsTheRunWithOneLine_NoRetry_KeyNowhere()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        for (var i = 0; i < 5; i++)
        {
            await AddImageAsync($"{i}.jpg");
        }

        // A hostile or broken gateway echoing the key must not make it leak either.
        _fake.Behavior = (_, request) => new FakeReply(System.Net.HttpStatusCode.Unauthorized,
            RawBody: "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid key " + request.ApiKey + "\"}}");

        var run = await CliRun.InvokeAsync("describe", "--all", "--connection", _database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("dbfirst: describe stopped: Claude answered 401", line);
        Assert.InRange(_fake.Requests.Count, 1, 4); // at most the calls already in flight (concurrency 4), none retried
        Assert.DoesNotContain(Key, run.Out + run.Error);
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE describe_error IS NOT NULL OR description IS NOT NULL"));
    }

    [Fact]
    public async Task Describe_KeyAppearsInNoOutputOrTable()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        await AddImageAsync("ok.jpg");
        await AddImageAsync("fails.jpg");
        await AddImageAsync("missing.jpg", bytes: null);
        _fake.Behavior = (_, request) => request.Images.Count == 1 && _fake.Requests.Count(r => r.Images.Count == 1) > 1
            ? new FakeReply((System.Net.HttpStatusCode)400, RawBody: null)
            : FakeReply.Ok("fine");

        var run = await CliRun.InvokeAsync("describe", "--all", "--json", "--connection", _database.ConnectionString);

        Assert.DoesNotContain(Key, run.Out + run.Error);
        var tableText = await _database.ScalarAsync<string>(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM gallery.image_gallery) t") ?? "";
        Assert.DoesNotContain(Key, tableText);
        Assert.Contains("cannot read the image", tableText);
    }

    [Fact]
    public async Task RequestDescription_MarksAnImage_AndDescribeWithoutIdsTakesIt()
    {
        using var environment = new ClaudeEnvironment(Key, _fake.BaseUrl);
        var wanted = await AddImageAsync("wanted.jpg");
        await AddImageAsync("other.jpg");

        Assert.True(await _database.ScalarAsync<bool>($"SELECT gallery.request_description({wanted})"));
        Assert.Null(await _database.ScalarAsync<bool?>("SELECT gallery.request_description(-1)"));
        var run = await CliRun.InvokeAsync("describe", "--connection", _database.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("described 1", run.Error);
        Assert.True(await _database.ScalarAsync<bool>($"SELECT description IS NOT NULL AND describe_requested_at IS NULL FROM gallery.image_gallery WHERE id = {wanted}"));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE description IS NOT NULL"));
    }

    private async Task<long> AddImageAsync(string name, byte[]? bytes = null)
    {
        var path = Path.Combine(_folder, name);
        if (bytes is not null || !name.StartsWith("missing", StringComparison.Ordinal))
        {
            await File.WriteAllBytesAsync(path, bytes ?? TestImages.SplitRedBlue(200, 100));
        }

        return await _database.ScalarAsync<long>($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}') RETURNING id");
    }
}
