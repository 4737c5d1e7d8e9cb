using System.Text.Json;
using DbFirst.Database;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_ShowsThePgvectorVersion_AndWarnsExactlyWhenItIsOlderThanTheFixedRelease()
    {
        await using var database = await TestDatabase.CreateAsync();
        var installed = await database.ScalarAsync<string>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
        string[] args = ["--connection", database.ConnectionString, "--model", TestPaths.TinyClipModel];

        var text = await CliRun.InvokeAsync(["status", .. args]);
        var json = await CliRun.InvokeAsync(["status", "--json", .. args]);

        Assert.Equal(0, text.ExitCode);
        Assert.Contains($"pgvector   {installed}", text.Out);
        Assert.Equal(PgvectorVersion.IsOlder(installed!, "0.8.6"), text.Error.Contains("older than 0.8.6", StringComparison.Ordinal));
        var root = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal(["model", "status", "pgvector"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(installed, root.GetProperty("pgvector").GetProperty("installed").GetString());
        Assert.Equal("0.8.6", root.GetProperty("pgvector").GetProperty("minimum").GetString());
        Assert.Equal(PgvectorVersion.IsOlder(installed!, "0.8.6"), root.GetProperty("pgvector").GetProperty("below_minimum").GetBoolean());
    }

    [Theory]
    [InlineData("0.8.0", "0.8.0", true, "run scripts/setup.sh")]
    [InlineData("0.8.0", "0.8.6", true, "ALTER EXTENSION vector UPDATE")]
    [InlineData("0.8.6", "0.8.6", false, null)]
    [InlineData("0.10.0", "0.10.0", false, null)]
    [InlineData(null, "0.8.6", false, null)]
    public void PgvectorVersion_WarnsBelow086_AndSaysWhatToRun(string? installed, string available, bool below, string? advice)
    {
        var version = new PgvectorVersion(installed, available);

        Assert.Equal(below, version.BelowMinimum);
        if (advice is null)
        {
            Assert.Null(version.Warning);
        }
        else
        {
            Assert.Contains(advice, version.Warning);
        }
    }
}
