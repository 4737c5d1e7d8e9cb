using System.Text.Json;
using DbFirst.Runner;
using DbFirst.Tests.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

/// <summary>
/// File names with terminal control characters (ESC sequences, BEL, CR, newline) through ingest, embed, search and
/// status: escaped on the terminal, exact in <c>--json</c>.
/// </summary>
public sealed class TerminalOutputTests
{
    // Sets the terminal title, rings the bell, returns to column 0 and starts a fake line.
    private const string Hostile = "x\u001b]0;owned\u0007\u001b[2J\r\ndbfirst: all good";

    [Fact]
    public async Task HostileFileNames_AreEscapedOnTheTerminal_AndExactInJson()
    {
        using var folder = new ScratchFolder();
        var good = folder.Write($"{Hostile}.jpg", TestImages.Jpeg(32, 32, seed: 4));
        var broken = folder.Write($"{Hostile}.png", TestImages.Png(10, 10)[..20]);
        await using var database = await TestDatabase.CreateAsync();
        var connection = new[] { "--connection", database.ConnectionString, "--model", TestPaths.TinyClipModel };

        var ingest = await CliRun.InvokeAsync(["ingest", folder.Root, .. connection]);
        var embed = await CliRun.InvokeAsync(["embed", .. connection]);
        var search = await CliRun.InvokeAsync(["search", "a red photo", "-k", "1", .. connection]);
        var searchJson = await CliRun.InvokeAsync(["search", "a red photo", "-k", "1", "--json", .. connection]);
        await TestEmbeddings.ClearAsync(database, "true");
        await database.ExecuteAsync(
            $"UPDATE gallery.image_gallery SET embed_error_permanent = true, embed_error = 'cannot decode ' || '{good.Replace("'", "''")}'");
        var status = await CliRun.InvokeAsync(["status", .. connection]);
        var statusJson = await CliRun.InvokeAsync(["status", "--json", .. connection]);

        Assert.Equal([0, 0, 0, 0, 0, 0], new[] { ingest.ExitCode, embed.ExitCode, search.ExitCode, searchJson.ExitCode, status.ExitCode, statusJson.ExitCode });
        AssertEscaped(ingest.Error, $"failed: {TerminalText.Escape(broken)}: ");
        AssertEscaped(search.Out, TerminalText.Escape(good));
        AssertEscaped(status.Out, $"permanent  cannot decode {TerminalText.Escape(good)}");
        Assert.Equal(good, JsonDocument.Parse(searchJson.Out).RootElement[0].GetProperty("path").GetString());
        var failure = JsonDocument.Parse(statusJson.Out).RootElement.GetProperty("status").GetProperty("failures")[0];
        Assert.Equal($"cannot decode {good}", failure.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task HostileFileName_InIngestJson_RoundTripsExactly()
    {
        using var folder = new ScratchFolder();
        var broken = folder.Write($"{Hostile}.png", TestImages.Png(10, 10)[..20]);
        await using var database = await TestDatabase.CreateAsync();

        var run = await CliRun.InvokeAsync("ingest", folder.Root, "--json", "--connection", database.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain('\u001b', run.Out);
        var failure = JsonDocument.Parse(run.Out).RootElement.GetProperty("failed")[0];
        Assert.Equal(broken, failure.GetProperty("path").GetString());
    }

    private static void AssertEscaped(string output, string expected)
    {
        Assert.Contains(expected, output);
        Assert.DoesNotContain(output, c => c is < ' ' and not '\n' or '\u007f');
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith("dbfirst: all good", StringComparison.Ordinal));
    }
}
