using System.Text.Json;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Models;

/// <summary>
/// <c>dbfirst search</c> (and <c>ask</c>, through the same retriever) encode the text with the registry's active model,
/// not the process's own: after a promote to a model of another dimension, a runner still configured with the old
/// model searches with the new one, and one that cannot load it says so in one line instead of ranking a foreign vector.
/// </summary>
public sealed class SearchFollowsActiveModelTests
{
    [Fact]
    public async Task Search_AfterPromotingAnotherDimension_EncodesWithTheActiveModel()
    {
        await using var database = await TestDatabase.CreateAsync();
        await TestEmbeddings.RegisterActiveAsync(database, "tiny-clip-test", 512);
        await database.ExecuteAsync($"SELECT gallery.stage_model('tiny-clip-test-384', 384, '{TestPaths.TinyClip384Model}', 'immich')");
        await database.ExecuteAsync("SELECT gallery.promote_model(1.0)");

        var run = await CliRun.InvokeAsync("search", "a red photo", "-k", "3", "--json", "--model", TestPaths.TinyClipModel, "--connection", database.ConnectionString);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(run.Out).RootElement.ValueKind);
    }

    [Fact]
    public async Task Search_WhenTheActiveModelCannotBeLoaded_FailsInOneLineNamingBothModels()
    {
        await using var database = await TestDatabase.CreateAsync();
        await TestEmbeddings.RegisterActiveAsync(database, "tiny-clip-test", 512);
        await database.ExecuteAsync("SELECT gallery.stage_model('elsewhere-384', 384, '/nonexistent/dbfirst-model', 'immich')");
        await database.ExecuteAsync("SELECT gallery.promote_model(1.0)");

        var run = await CliRun.InvokeAsync("search", "a red photo", "--model", TestPaths.TinyClipModel, "--connection", database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("active model", StringComparison.Ordinal));
        Assert.Contains("elsewhere-384", line);
        Assert.Contains("tiny-clip-test", line);
        Assert.Equal("", run.Out);
    }
}
