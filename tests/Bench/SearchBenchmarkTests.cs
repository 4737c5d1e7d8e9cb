using DbFirst.Bench;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Bench;

public sealed class SearchBenchmarkTests
{
    [Fact]
    public void NearlyUniform_IsSeeded_UnitLength_AndSpreadAcrossItsCentres()
    {
        var first = SyntheticGallery.NearlyUniform(300, 512, 10, 0.06, seed: 3);
        var again = SyntheticGallery.NearlyUniform(300, 512, 10, 0.06, seed: 3);
        var other = SyntheticGallery.NearlyUniform(300, 512, 10, 0.06, seed: 4);

        Assert.Equal(first.Select(v => v.ToArray()), again.Select(v => v.ToArray()));
        Assert.NotEqual(first[0], other[0]);
        Assert.All(first, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        // Rows of one centre (i % 10) are closer than rows of two, but not by much: the set is hard, not random.
        var same = SyntheticGallery.CosineDistance(first[0], first[10]);
        var apart = SyntheticGallery.CosineDistance(first[0], first[1]);
        Assert.InRange(same, 0.4, 0.9);
        Assert.InRange(apart, 0.9, 1.1);
    }

    [Theory]
    [InlineData("exact,bogus", "--configs takes a comma-separated list of exact, seed-ivfflat, ivfflat, hnsw-default, hnsw, half, binary, hnsw-build, filtered, duplicates, text; unknown: 'bogus'")]
    [InlineData("exact,filtered", "--configs filtered, duplicates and text search through an index: add one of seed-ivfflat, ivfflat, hnsw-default, hnsw, hnsw-build")]
    [InlineData("ivfflat,half", "--configs half and binary are measured beside the tuned HNSW index: add hnsw")]
    public void Configs_RefuseUnknownNamesAndSearchesWithoutAnIndex(string list, string message)
    {
        var error = Assert.Throws<GalleryException>(() => SearchConfigurations.Parse(list));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Configs_DefaultToTodaysRunPlusFilteredAndDuplicates()
    {
        var parsed = SearchConfigurations.Parse(null);

        Assert.Equal(["exact", "seed-ivfflat", "ivfflat", "hnsw", "half", "binary", "filtered", "duplicates", "text"], SearchConfigurations.All.Where(parsed.Contains));
    }

    [Fact]
    public async Task BenchSearch_HardSetWithChosenConfigs_ReportsMemorySizeFilteredAndDuplicates()
    {
        var output = Path.Combine(Path.GetTempPath(), $"dbfirst-bench-{Guid.NewGuid():N}.md");
        try
        {
            var run = await BenchRun.InvokeAsync(
                "search", "--set", "hard", "--rows", "2000", "--queries", "20", "--configs", "hnsw-default,filtered,duplicates", "--no-text",
                "--connection", TestDatabase.ServerConnectionString, "--out", output);

            Assert.True(run.ExitCode == 0, run.Error);
            var text = await File.ReadAllTextAsync(output);
            Assert.Contains("set `hard`: nearly uniform: 1,000 random unit centres", text, StringComparison.Ordinal);
            Assert.Contains("| configuration | setting | recall@10 | p50 ms | p95 ms | build s | index size | peak build memory | maintenance_work_mem |", text, StringComparison.Ordinal);
            var defaults = text.Split('\n').Where(line => line.StartsWith("| default HNSW |", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, defaults.Count);
            Assert.Contains("hnsw.ef_search = 40 |", defaults[0], StringComparison.Ordinal);
            Assert.Contains("hnsw.ef_search = 160 |", defaults[1], StringComparison.Ordinal);
            Assert.Contains("MiB |", defaults[0], StringComparison.Ordinal);
            Assert.DoesNotContain("| exact scan |", text, StringComparison.Ordinal);
            Assert.Contains("| filtered search: 20 of 20 returned k rows (fewest 10) | folder /synthetic/c042 (1%), k = 10 |", text, StringComparison.Ordinal);
            Assert.Contains("stored neighbours: backfill of 2,000 loaded images", text, StringComparison.Ordinal);
            Assert.Contains("| gallery.near_duplicates(0.01):", text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task BenchSearch_Reuse_ContinuesOnTheKeptDatabase_WithoutLoadingOrBuildingAgain()
    {
        var first = Path.Combine(Path.GetTempPath(), $"dbfirst-bench-{Guid.NewGuid():N}.md");
        var second = Path.Combine(Path.GetTempPath(), $"dbfirst-bench-{Guid.NewGuid():N}.md");
        string? kept = null;
        try
        {
            var keep = await BenchRun.InvokeAsync(
                "search", "--set", "hard", "--rows", "2000", "--queries", "20", "--configs", "hnsw-default", "--no-text", "--keep",
                "--connection", TestDatabase.ServerConnectionString, "--out", first);
            Assert.True(keep.ExitCode == 0, keep.Error);
            kept = System.Text.RegularExpressions.Regex.Match(keep.Error, "kept the scratch database (dbfirst_bench_[0-9a-f]{16})").Groups[1].Value;
            Assert.NotEmpty(kept);

            var reuse = await BenchRun.InvokeAsync(
                "search", "--set", "hard", "--rows", "2000", "--queries", "20", "--configs", "hnsw-default,filtered", "--no-text", "--reuse", kept,
                "--connection", TestDatabase.ServerConnectionString, "--out", second);

            Assert.True(reuse.ExitCode == 0, reuse.Error);
            Assert.Contains("reusing the index in place: m = 16, ef_construction = 64", reuse.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("binary COPY", reuse.Error, StringComparison.Ordinal);
            var text = await File.ReadAllTextAsync(second);
            Assert.Contains($"- reused {kept}: its 2,000 rows", text, StringComparison.Ordinal);
            Assert.Contains("| filtered search: 20 of 20 returned k rows", text, StringComparison.Ordinal);
            // The same seed gives the same held-out queries, so the same index answers them alike.
            Assert.Equal(DefaultRecalls(await File.ReadAllTextAsync(first)), DefaultRecalls(text));
            Assert.Equal(1L, await TestDatabase.ServerScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{kept}'"));
        }
        finally
        {
            if (kept is { Length: > 0 })
            {
                await TestDatabase.ServerExecuteAsync($"DROP DATABASE IF EXISTS {kept} WITH (FORCE)");
            }

            File.Delete(first);
            File.Delete(second);
        }
    }

    [Theory]
    [InlineData("dbfirst")]
    [InlineData("dbfirst_bench_0123; DROP DATABASE dbfirst")]
    public async Task BenchSearch_Reuse_RefusesANameItDidNotMake(string name)
    {
        var run = await BenchRun.InvokeAsync(
            "search", "--rows", "2000", "--configs", "hnsw", "--no-text", "--reuse", name, "--connection", TestDatabase.ServerConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{name} is not a kept scratch database (expected dbfirst_bench_ and 16 hex digits)", run.Error, StringComparison.Ordinal);
    }

    private static string[] DefaultRecalls(string report) =>
        report.Split('\n').Where(line => line.StartsWith("| default HNSW |", StringComparison.Ordinal)).Select(line => line.Split('|')[3].Trim()).ToArray();
}
