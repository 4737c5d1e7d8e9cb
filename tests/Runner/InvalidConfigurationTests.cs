using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

/// <summary>
/// The real runner, started as an operator would with one invalid setting in its environment: it must stop before
/// doing anything, with exit code 1 and one line naming the key, what it must be and what it got.
/// </summary>
public sealed class InvalidConfigurationTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _fixture;

    public InvalidConfigurationTests(PostgresFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("Jobs__embed-pending__Enabled", "ture", "Jobs:embed-pending:Enabled must be true or false (got \"ture\")", "serve", "--urls", "http://127.0.0.1:0")]
    [InlineData("Index__BuildMemoryCeiling", "lots", "Index:BuildMemoryCeiling must be a size such as 2GB or 512MB (got \"lots\")", "serve", "--urls", "http://127.0.0.1:0")]
    [InlineData("Hangfire__WorkerCount", "0", "Hangfire:WorkerCount must be a whole number from 1 to 64 (got \"0\")", "worker")]
    [InlineData("Claude__MaxTokens", "-1", "Claude:MaxTokens must be a positive whole number (got \"-1\")", "worker")]
    [InlineData("Claude__Concurrency", "four", "Claude:Concurrency must be a positive whole number (got \"four\")", "describe", "--all")]
    [InlineData("Embedding__BatchSize", "100000", "Embedding:BatchSize must be a whole number from 1 to 10000 (got \"100000\")", "embed")]
    [InlineData("Index__BuildMemoryCeiling", "512kB", "Index:BuildMemoryCeiling must be at least 1MB (PostgreSQL's smallest maintenance_work_mem) (got \"512kB\")", "index", "rebuild", "--plan")]
    [InlineData("Ingest__PruneMaxFraction", "1.5", "Ingest:PruneMaxFraction must be a number from 0 to 1 (got \"1.5\")", "ingest", "/nonexistent-dbfirst-folder")]
    public async Task InvalidSetting_StopsTheCommandWithOneLineNamingTheKey(string variable, string value, string expected, params string[] args)
    {
        using var process = DbFirstProcess.Start(
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Gallery"] = _fixture.ConnectionString,
                ["Clip__ModelPath"] = TestPaths.TinyClipModel,
                ["ANTHROPIC_API_KEY"] = "sk-ant-test-not-a-key",
                [variable] = value,
            },
            args);

        var (exitCode, output, error) = await process.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Equal($"dbfirst: configuration: {expected}", Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
