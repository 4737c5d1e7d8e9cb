using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

/// <summary>A command line that does not parse exits 2 with one line per problem and a pointer to help (README: exit codes).</summary>
public sealed class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "search" }, "dbfirst search --help")]
    [InlineData(new[] { "search", "red", "-k", "many" }, "dbfirst search --help")]
    [InlineData(new[] { "model", "promote", "--min-coverage" }, "dbfirst model promote --help")]
    [InlineData(new[] { "no-such-command" }, "dbfirst --help")]
    public async Task BadUsage_ExitsTwo_WithOneLinePerProblem_AndNothingOnStdout(string[] args, string hint)
    {
        var run = await CliRun.InvokeAsync(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Out);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(lines[..^1], line => Assert.StartsWith("dbfirst: ", line));
        Assert.NotEmpty(lines[..^1]);
        Assert.Equal($"Run '{hint}' for usage.", lines[^1]);
        Assert.DoesNotContain("Usage:", run.Error);
    }

    [Fact]
    public async Task Help_StillPrintsHelp_AndExitsZero()
    {
        var run = await CliRun.InvokeAsync("search", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Usage:", run.Out);
    }
}
