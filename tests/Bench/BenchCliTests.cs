using DbFirst.Runner.Commands;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Bench;

public sealed class BenchCliTests
{
    [Fact]
    public async Task BenchClip_ShortRun_WritesMarkdownFile()
    {
        var output = Path.Combine(Path.GetTempPath(), $"dbfirst-bench-{Guid.NewGuid():N}.md");
        try
        {
            var run = await BenchRun.InvokeAsync("clip", "--model", TestPaths.TinyClipModel, "--seconds", "0.05", "--out", output);

            Assert.Equal(0, run.ExitCode);
            var text = await File.ReadAllTextAsync(output);
            Assert.Contains("| preprocess | 12 MP JPEG 4000x3000 |", text);
            Assert.Contains("| image encoder |", text);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task ProductBinary_Bench_SaysInOneLineWhereBenchmarksLive_AndFails()
    {
        var run = await CliRun.InvokeAsync("bench", "search", "--rows", "2000");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Out);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"dbfirst: {BenchCommand.Where}", line);
    }

    [Fact]
    public async Task BenchEmbed_ZeroImages_OneLineAndExit1()
    {
        var run = await BenchRun.InvokeAsync("embed", "--images", "0");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dbfirst: --images must be at least 1", run.Error.Trim());
    }
}
