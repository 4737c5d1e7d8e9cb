using System.Runtime.InteropServices;
using System.Text.Json;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

public sealed class ClipCommandTests
{
    private static string Model => TestPaths.TinyClipModel;

    [Fact]
    public async Task Tokenize_Json_Prints77Ids()
    {
        var run = await CliRun.InvokeAsync("clip", "tokenize", "a red photo", "--json", "--model", Model);

        Assert.Equal(0, run.ExitCode);
        var ids = JsonDocument.Parse(run.Out).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(77, ids.Count);
        Assert.Equal([49406, 320, 736, 1125, 49407, 0], ids.Take(6));
    }

    [Fact]
    public async Task EmbedText_Json_PrintsModelDimAndUnitEmbedding()
    {
        var run = await CliRun.InvokeAsync("clip", "embed-text", "a blue photo", "--json", "--model", Model);

        Assert.Equal(0, run.ExitCode);
        var root = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal("tiny-clip-test", root.GetProperty("model").GetString());
        Assert.Equal(512, root.GetProperty("dim").GetInt32());
        var vector = root.GetProperty("embedding").EnumerateArray().Select(e => e.GetDouble()).ToList();
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => v * v)), 4);
        Assert.Contains("NOT semantic", run.Error);
    }

    [Fact]
    public async Task EmbedImage_Json_PrintsEmbedding()
    {
        var run = await CliRun.InvokeAsync("clip", "embed-image", Fixture("palette.png"), "--json", "--model", Model);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(512, JsonDocument.Parse(run.Out).RootElement.GetProperty("embedding").GetArrayLength());
    }

    [Fact]
    public async Task Preprocess_WritesFloatTensor()
    {
        var output = Path.Combine(Path.GetTempPath(), $"dbfirst-{Guid.NewGuid():N}.f32");
        try
        {
            var run = await CliRun.InvokeAsync("clip", "preprocess", Fixture("gray.png"), "--out", output, "--model", Model);

            Assert.Equal(0, run.ExitCode);
            var floats = MemoryMarshal.Cast<byte, float>(await File.ReadAllBytesAsync(output)).ToArray();
            Assert.Equal(3 * 224 * 224, floats.Length);
            Assert.Equal((128 / 255f - 0.48145466f) / 0.26862954f, floats[0], 5);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task EmbedImage_MissingFile_OneLineAndExit1()
    {
        var run = await CliRun.InvokeAsync("clip", "embed-image", "/nonexistent/photo.jpg", "--model", Model);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dbfirst: file not found: /nonexistent/photo.jpg", run.Error.Trim());
    }

    [Fact]
    public async Task EmbedImage_UnreadableImage_ClearLineAndExit1()
    {
        var junk = Path.Combine(Path.GetTempPath(), $"dbfirst-{Guid.NewGuid():N}.jpg");
        await File.WriteAllTextAsync(junk, "not a jpeg");
        try
        {
            var run = await CliRun.InvokeAsync("clip", "embed-image", junk, "--model", Model);

            Assert.Equal(1, run.ExitCode);
            Assert.Equal($"dbfirst: cannot read image {junk}: not a recognised image format", run.Error.Trim().Split('\n')[^1]);
        }
        finally
        {
            File.Delete(junk);
        }
    }

    [Fact]
    public async Task EmbedText_MissingModelFolder_OneLineAndExit1()
    {
        var run = await CliRun.InvokeAsync("clip", "embed-text", "cat", "--model", "/nonexistent/model");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("dbfirst: CLIP model folder not found: /nonexistent/model", line);
    }

    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "images", name);
}
