using System.Text.Json;
using DbFirst.Indexing;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Indexing;

public sealed class BuildParameterTunerTests
{
    // Nearly uniform (as bench search --set hard): a sparse graph misses here, and recall is worth measuring.
    private static float[][] HardRows(int count) => SyntheticGallery.NearlyUniform(count, 512, 30, 0.06, seed: 7);

    [Fact]
    public async Task Tune_EvaluatesCandidatesOnASample_RebuildsOnceWithTheChosenOne_WithinTheCeiling()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, HardRows(3000), 30);
        const long Ceiling = 16L << 20;
        var manager = new VectorIndexManager(dataSource, Ceiling);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 4, EfConstruction: 8));
        var tune = new TuneOptions(0.95, 30, 10);
        var current = await new IndexTuner(dataSource).TuneAsync(tune);
        var builds = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds");
        var log = new StringWriter();

        var report = await new BuildParameterTuner(dataSource, Ceiling).TuneAsync(tune, new BuildTuneOptions(SampleRows: 1500, SampleQueries: 100), current, log);

        Assert.Equal(1500, report.SampleRows);
        Assert.Equal(100, report.SampleQueries);
        Assert.True(report.MissRatio >= 1, $"miss ratio {report.MissRatio}");
        // Cheapest first, stopping at the first that reaches the target.
        Assert.Equal(
            BuildTuneOptions.Candidates.Take(report.Candidates.Count).Select(p => (p.M, p.EfConstruction)),
            report.Candidates.Select(c => (c.M, c.EfConstruction)));
        Assert.All(report.Candidates.SkipLast(1), candidate => Assert.False(candidate.Reaches));
        Assert.All(report.Candidates, candidate => Assert.True(candidate.SampleBuildSeconds > 0 && candidate.SampleIndexBytes > 0));
        Assert.Same(report.Chosen, report.Candidates[^1]);
        Assert.True(report.Chosen.Reaches, log.ToString());
        Assert.True(report.Chosen.PredictedRecall >= 0.97, log.ToString());
        var chosen = new HnswParameters(report.Chosen.M, report.Chosen.EfConstruction);
        Assert.Equal(chosen, report.Build!.Parameters);
        Assert.Equal(chosen, (await manager.GetStatusAsync()).Parameters);
        Assert.True(report.Plan!.MaintenanceWorkMemBytes <= Ceiling);
        Assert.Equal(builds + 1, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds"));
        Assert.True(report.Search!.Stored);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE 'dbfirst_tune_sample%'"));
    }

    [Fact]
    public void MissRatio_IsTakenNearTheTarget_NotPooledOverSmallEfSearchValues()
    {
        // The 20,000-row hard run of the README: pooled, the ratio came out 1.33 and (16, 64) was chosen for a recall
        // the table then missed by far (0.805 at ef_search 320).
        var full = new Dictionary<int, double> { [40] = 0.220, [160] = 0.505, [320] = 0.805, [800] = 1.000 };
        var sample = new Dictionary<int, double> { [40] = 0.600, [160] = 0.900, [320] = 0.980, [800] = 1.000 };

        var (ef, ratio) = BuildParameterTuner.MissRatio(full, sample, targetRecall: 0.95, queries: 200);

        Assert.Equal(320, ef);
        Assert.Equal(0.195 / 0.020, ratio, precision: 6);
    }

    [Fact]
    public void MissRatio_SampleThatMissedNothing_IsFlooredAtOneMissInItsQueries_AndNeverBelowOne()
    {
        var (ef, ratio) = BuildParameterTuner.MissRatio(
            new Dictionary<int, double> { [40] = 0.90 }, new Dictionary<int, double> { [40] = 1.0 }, targetRecall: 0.95, queries: 100);
        var (nearlyPerfectEf, nearlyPerfect) = BuildParameterTuner.MissRatio(
            new Dictionary<int, double> { [40] = 0.99 }, new Dictionary<int, double> { [40] = 0.95 }, targetRecall: 0.95, queries: 100);
        var (betterEf, better) = BuildParameterTuner.MissRatio(
            new Dictionary<int, double> { [40] = 0.90 }, new Dictionary<int, double> { [40] = 0.80 }, targetRecall: 0.95, queries: 100);

        Assert.Equal((40, 10.0), (ef, Math.Round(ratio, 6)));
        Assert.Equal(((int?)null, 1.0), (nearlyPerfectEf, nearlyPerfect));
        Assert.Equal((40, 1.0), (betterEf, better));
    }

    [Fact]
    public async Task Tune_DryRun_EvaluatesButBuildsNothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, HardRows(2000), 30);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 4, EfConstruction: 8));
        var builds = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds");

        var report = await new BuildParameterTuner(dataSource).TuneAsync(
            new TuneOptions(0.95, 30, 10, Store: false), new BuildTuneOptions(SampleRows: 1000, SampleQueries: 50), current: null);

        Assert.NotEmpty(report.Candidates);
        Assert.Equal(1.0, report.MissRatio);
        Assert.Null(report.Build);
        Assert.Null(report.Search);
        Assert.Equal(builds, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds"));
        Assert.Equal(new HnswParameters(4, 8), (await new VectorIndexManager(dataSource).GetStatusAsync()).Parameters);
    }

    [Fact]
    public async Task Tune_PairsWhoseFullBuildOutlastsTheBudget_AreNotTried_AndTheBestWithinItIsChosen()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        // Uniform enough that ef_search 10 misses often whatever the graph.
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.NearlyUniform(2000, 512, 1000, 0.15, seed: 7), 30);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 4, EfConstruction: 8));
        // As if the (4, 8) build had taken 97.9 s: plans scale by m^1.2 x ef_construction^0.6 (18.4x from (4, 8) to
        // (16, 64)), so (16, 64) plans 30 min and (16, 128) 45 min (2^0.6 = 1.52x more), over a 40-minute budget.
        await database.ExecuteAsync("UPDATE gallery.index_builds SET build_seconds = 97.9");
        var log = new StringWriter();

        // At most ef_search 10: no pair reaches the target, so every pair within the budget is tried.
        var report = await new BuildParameterTuner(dataSource).TuneAsync(
            new TuneOptions(0.95, 30, 10, Store: false), new BuildTuneOptions(SampleRows: 1000, SampleQueries: 50, MaxEfSearch: 10, MaxBuildMinutes: 40), current: null, log);

        Assert.Equal([(16, 64)], report.Candidates.Select(c => (c.M, c.EfConstruction)));
        Assert.Same(report.Candidates[0], report.Chosen);
        Assert.Equal(
            BuildTuneOptions.Candidates.Skip(1).Select(p => (p.M, p.EfConstruction)),
            report.OverBudget.Select(plan => plan.Parameters).Cast<HnswParameters>().Select(p => (p.M, p.EfConstruction)));
        Assert.All(report.OverBudget, plan => Assert.True(plan.EstimatedSeconds > 40 * 60));
        Assert.Contains("m = 16, ef_construction = 128: not tried: full build ~45 min, over the 40-minute budget (--max-build-minutes)", log.ToString());
        Assert.Contains("no candidate within the 40-minute build budget reached the target on the sample; building the best predicted one within it (m = 16, ef_construction = 64", log.ToString());

        var error = await Assert.ThrowsAsync<GalleryException>(() => new BuildParameterTuner(dataSource).TuneAsync(
            new TuneOptions(0.95, 30, 10, Store: false), new BuildTuneOptions(SampleRows: 1000, SampleQueries: 50, MaxBuildMinutes: 20), current: null));
        Assert.Equal("even the cheapest pair's full build (~30 min) is over the 20-minute budget: raise --max-build-minutes, or keep the ef_search tune alone", error.Message);
        Assert.Throws<GalleryException>(() => new BuildTuneOptions(MaxBuildMinutes: -1).Validate());
    }

    [Fact]
    public async Task Tune_WithoutAnHnswIndex_RefusesInOneLine()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, HardRows(2000), 30);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat));

        var error = await Assert.ThrowsAsync<GalleryException>(() =>
            new BuildParameterTuner(dataSource).TuneAsync(new TuneOptions(), new BuildTuneOptions(), current: null));

        Assert.Equal("choosing build parameters needs an HNSW index of the active model: dbfirst index rebuild --type hnsw first", error.Message);
    }

    [Fact]
    public async Task IndexTuneCommand_BuildParametersJson_PrintsTheTradeOffTable()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, HardRows(2000), 30);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 4, EfConstruction: 8));

        var run = await CliRun.InvokeAsync(
            "index", "tune", "--build-parameters", "--dry-run", "--sample", "1000", "--queries", "20", "--json", "--connection", database.ConnectionString);

        Assert.True(run.ExitCode == 0, run.Error);
        var root = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal("hnsw.ef_search", root.GetProperty("search").GetProperty("setting").GetString());
        var candidates = root.GetProperty("build_parameters").GetProperty("candidates").EnumerateArray().ToList();
        Assert.NotEmpty(candidates);
        Assert.Equal(16, candidates[0].GetProperty("m").GetInt32());
        Assert.Equal(64, candidates[0].GetProperty("ef_construction").GetInt32());
        Assert.True(candidates[0].GetProperty("sample_build_seconds").GetDouble() > 0);
        // The full-size build each candidate would need, planned as the rebuild would be.
        var full = candidates[0].GetProperty("full_plan");
        Assert.Equal(2000, full.GetProperty("rows").GetInt64());
        Assert.Equal(BuildPlanner.HnswBytesPerRow(512, 16), full.GetProperty("bytes_per_row").GetInt64());
        Assert.True(full.GetProperty("estimated_seconds").GetDouble() > 0);
        Assert.Matches(@"m = 16, ef_construction =  64: sample build .*; full build ~\d+ s, ", run.Error);
        // Seconds-long builds are far within the default budget: nothing left out.
        Assert.Empty(root.GetProperty("build_parameters").GetProperty("over_budget").EnumerateArray());
    }
}
