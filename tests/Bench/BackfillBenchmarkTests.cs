using System.Text.Json;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Bench;

/// <summary><c>dbfirst bench backfill</c> end to end with the two test models: real <c>dbfirst embed</c> processes, a real server.</summary>
public sealed class BackfillBenchmarkTests
{
    [Fact]
    public async Task BenchBackfill_TwoTestModels_BackfillsEveryImage_SearchesAnswerThroughout_WithTheActiveModelsRowsOnly()
    {
        var output = Path.Combine(Path.GetTempPath(), $"dbfirst-bench-backfill-{Guid.NewGuid():N}.md");
        try
        {
            var run = await BenchRun.InvokeAsync(
                "backfill", "--model", TestPaths.TinyClipModel, "--staged-model", TestPaths.TinyClip384Model,
                "--images", "6", "--before-seconds", "1", "--out", output, "--connection", TestDatabase.ServerConnectionString);

            Assert.True(run.ExitCode == 0, run.Error);
            using var result = JsonDocument.Parse(await File.ReadAllTextAsync(Path.ChangeExtension(output, ".json")));
            var root = result.RootElement;
            Assert.Equal(("tiny-clip-test", "tiny-clip-test-384", 6), (root.GetProperty("active_model").GetString(), root.GetProperty("staged_model").GetString(), root.GetProperty("backfill_embedded").GetInt32()));
            Assert.Equal("tiny-clip-test active 6/6, tiny-clip-test-384 staged 6/6", root.GetProperty("coverage").GetString());
            Assert.Equal((0, 0L), (root.GetProperty("search_errors").GetInt32(), root.GetProperty("foreign_rows").GetInt64()));
            Assert.True(root.GetProperty("rows_returned").GetInt64() > 0);
            Assert.True(root.GetProperty("backfill_peak_rss_bytes").GetInt64() > 0);
            foreach (var row in root.GetProperty("searches").EnumerateArray())
            {
                Assert.True(row.GetProperty("before_count").GetInt32() > 0 && row.GetProperty("during_count").GetInt32() > 0, row.ToString());
            }

            Assert.Contains("| **staged model's backfill, searches running** (6 images) |", await File.ReadAllTextAsync(output));
        }
        finally
        {
            File.Delete(output);
            File.Delete(Path.ChangeExtension(output, ".json"));
        }
    }
}
