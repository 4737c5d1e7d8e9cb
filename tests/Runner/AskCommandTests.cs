using System.CommandLine;
using System.Text.Json;
using DbFirst.Claude;
using DbFirst.Runner;
using DbFirst.Runner.Commands;
using DbFirst.Search;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Runner;

[Collection("Claude environment")]
public sealed class AskCommandTests : IAsyncLifetime
{
    private const string Key = "sk-ant-ask-test-91bc-SECRET";
    private ClaudeTestBed _bed = null!;

    public async Task InitializeAsync()
    {
        _bed = await ClaudeTestBed.StartAsync(Key);
        for (var i = 0; i < 4; i++)
        {
            var path = Path.Combine(_bed.Folder, $"img{i}.jpg");
            await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(600 + i, 400));
            await _bed.Database.ExecuteAsync($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}')");
        }

        await _bed.Database.ExecuteAsync("UPDATE gallery.image_gallery SET description = 'a red and blue card', description_model = 'm' WHERE id = 2");
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Ask_SendsTheQuestionWithTopKImages_AndPrintsAnswerAndImages()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        _bed.Fake.Behavior = (_, _) => FakeReply.Ok("Image 1 is red on the left.");

        var run = await InvokeAsync("ask", "Which image shows red on the left?", "-k", "3");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.Single(_bed.Fake.Requests);
        Assert.Equal(3, request.Images.Count);
        Assert.All(request.Images, i => Assert.Equal(("image/jpeg", "Jpeg"), (i.MediaType, i.DetectedFormat)));
        Assert.Contains(request.Texts, t => t.EndsWith("Question: Which image shows red on the left?", StringComparison.Ordinal));
        Assert.DoesNotContain(request.Texts, t => t.Contains("Describe this", StringComparison.Ordinal));
        Assert.Contains(request.Texts, t => t.Contains("gallery id 2", StringComparison.Ordinal) && t.Contains("a red and blue card", StringComparison.Ordinal));
        Assert.Empty(_bed.Fake.Problems);
        Assert.StartsWith("Image 1 is red on the left.", run.Out);
        Assert.Contains("1. id 1", run.Out);
        Assert.Contains("3. id 3", run.Out);
        Assert.Contains("img2.jpg", run.Out);
    }

    [Fact]
    public async Task Ask_SameQuestionImagesAndModel_IsAnsweredFromTheCache()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);

        var first = await InvokeAsync("ask", "red?", "--json");
        var second = await InvokeAsync("ask", "red?", "--json");
        var otherK = await InvokeAsync("ask", "red?", "-k", "2", "--json");

        Assert.Equal(2, _bed.Fake.Requests.Count);
        using var a = JsonDocument.Parse(first.Out);
        using var b = JsonDocument.Parse(second.Out);
        Assert.Equal(a.RootElement.GetProperty("answer").GetString(), b.RootElement.GetProperty("answer").GetString());
        Assert.False(a.RootElement.GetProperty("cached").GetBoolean());
        Assert.True(b.RootElement.GetProperty("cached").GetBoolean());
        Assert.Equal("claude-sonnet-5-5", b.RootElement.GetProperty("model").GetString());
        var images = b.RootElement.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(3, images.Count);
        Assert.Equal(1, images[0].GetProperty("id").GetInt64());
        Assert.EndsWith("img0.jpg", images[0].GetProperty("path").GetString());
        Assert.Equal(0.1, images[0].GetProperty("distance").GetDouble(), 6);
        Assert.True(b.RootElement.GetProperty("usage").GetProperty("input_tokens").GetInt64() > 0);
        Assert.Equal(2, JsonDocument.Parse(otherK.Out).RootElement.GetProperty("images").GetArrayLength());
        Assert.Equal(1, await _bed.Database.ScalarAsync<int>("SELECT hits FROM gallery.ask_cache WHERE image_ids = '{1,2,3}'"));
        Assert.DoesNotContain(Key, await _bed.Database.ScalarAsync<string>("SELECT string_agg(t::text, ' ') FROM gallery.ask_cache t"));
    }

    [Fact]
    public async Task Ask_ClaudeDown_OneClearLineAndNothingCached()
    {
        using var environment = new ClaudeEnvironment(Key, _bed.Fake.BaseUrl);
        _bed.Fake.Behavior = (_, _) => FakeReply.Error(500);

        var run = await InvokeAsync("ask", "red?");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("dbfirst: ask failed: Claude answered 500", run.Error);
        Assert.Equal(0L, await _bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.ask_cache"));
    }

    private async Task<CliRun> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = new RunnerConsole(output, error, IsInteractive: false);
        var options = new GlobalOptions();
        var root = new RootCommand("test") { options.Connection, options.Model };
        root.Subcommands.Add(AskCommand.Create(options, console, (_, _, dataSource) => new FirstImagesRetriever(dataSource)));
        var exitCode = await root.Parse([.. args, "--connection", _bed.Database.ConnectionString])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Stands in for the CLIP search: the first k images by id, at distances 0.1, 0.2, …</summary>
    private sealed class FirstImagesRetriever(NpgsqlDataSource dataSource) : IImageRetriever
    {
        public async Task<IReadOnlyList<SearchHit>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default)
        {
            await using var command = dataSource.CreateCommand("SELECT id, path FROM gallery.image_gallery ORDER BY id LIMIT @k");
            command.Parameters.AddWithValue("k", k);
            var images = new List<SearchHit>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                images.Add(new SearchHit(reader.GetInt64(0), reader.GetString(1), 0.1 * (images.Count + 1)));
            }

            return images;
        }
    }
}
