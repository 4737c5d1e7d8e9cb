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
        Assert.Equal(["model", "status", "pgvector", "replication"], root.EnumerateObject().Select(p => p.Name));
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

    [Fact]
    public async Task PermanentAndTransientFailures_ShownAsTwoKinds_JsonKeepsItsKeys()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path, embed_attempts, embed_error, embed_error_permanent, embed_failed_at, embed_next_attempt_at) VALUES
              ('/p/new.jpg',   0, NULL, false, NULL, NULL),
              ('/p/nas.jpg',   4, 'file not found', false, now(), now() + interval '8 minutes'),
              ('/p/pipe.jpg',  1, 'not a regular file (a FIFO)', true, now(), NULL);
            """);

        var json = await CliRun.InvokeAsync("status", "--json", "--model", TestPaths.TinyClipModel, "--connection", database.ConnectionString);
        var text = await CliRun.InvokeAsync("status", "--model", TestPaths.TinyClipModel, "--connection", database.ConnectionString);

        Assert.Equal(0, json.ExitCode);
        var status = JsonDocument.Parse(json.Out).RootElement.GetProperty("status");
        Assert.Equal(3, status.GetProperty("rows").GetInt64());
        Assert.Equal(0, status.GetProperty("embedded").GetInt64());
        Assert.Equal(2, status.GetProperty("pending").GetInt64());
        Assert.Equal(1, status.GetProperty("retrying").GetInt64());
        Assert.Equal(1, status.GetProperty("failed").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, status.GetProperty("next_attempt_at").ValueKind);
        var failures = status.GetProperty("failures").EnumerateArray()
            .Select(f => (f.GetProperty("reason").GetString(), f.GetProperty("permanent").GetBoolean(), f.GetProperty("rows").GetInt64()))
            .ToList();
        Assert.Equal([("not a regular file (a FIFO)", true, 1L), ("file not found", false, 1L)], failures);
        Assert.Contains("permanent  not a regular file (a FIFO)", text.Out);
        Assert.Contains("retrying   file not found", text.Out);
        Assert.Contains("1 retrying after a transient failure", text.Out);
    }
}
