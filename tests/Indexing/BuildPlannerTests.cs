using System.Text.RegularExpressions;
using DbFirst.Indexing;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Indexing;

/// <summary>The HNSW build plan against pgvector's own account of when its graph outgrows maintenance_work_mem.</summary>
public sealed partial class BuildPlannerTests
{
    [Fact]
    public async Task Rebuild_UnderATinyCeiling_SpillsWhereThePlanSaid_AndAtTheRowThePlanEstimated()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(3000, 512, 10, seed: 3), 10);
        var manager = new VectorIndexManager(dataSource, buildMemoryCeiling: 2L << 20);
        var options = new IndexBuildOptions(VectorIndexManager.Hnsw, M: 16, EfConstruction: 32);

        var plan = await manager.PlanAsync(options);
        var log = new StringWriter();
        await manager.RebuildAsync(options, log);

        Assert.True(plan.Spills, "the plan should say a 2 MiB build of 3,000 rows spills");
        Assert.Equal(2L << 20, plan.MaintenanceWorkMemBytes);
        var notice = SpillNotice().Match(log.ToString());
        Assert.True(notice.Success, $"pgvector did not report a spill; log:\n{log}");
        var actual = long.Parse(notice.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(plan.RowsInMemory, actual * 0.9, actual * 1.1);
        Assert.Contains("spills: the graph fills maintenance_work_mem after", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rebuild_WithRoom_FitsAsPlanned_WithoutASpillNotice()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(3000, 512, 10, seed: 3), 10);
        var manager = new VectorIndexManager(dataSource, buildMemoryCeiling: 256L << 20);
        var options = new IndexBuildOptions(VectorIndexManager.Hnsw, M: 8, EfConstruction: 32);

        var plan = await manager.PlanAsync(options);
        var log = new StringWriter();
        await manager.RebuildAsync(options, log);

        Assert.False(plan.Spills);
        Assert.True(plan.MaintenanceWorkMemBytes >= plan.NeededBytes && plan.MaintenanceWorkMemBytes <= 256L << 20);
        Assert.DoesNotMatch(SpillNotice(), log.ToString());
        Assert.NotNull(plan.EstimatedSeconds);
    }

    [Fact]
    public void Plan_NeverGivesMoreThanTheCeiling_AndSaysWhereItSpills()
    {
        var plan = BuildPlanner.Plan(new HnswParameters(16, 64), 1_000_000, 512, ceilingBytes: 1L << 30, workers: 2, lastBuild: null);

        Assert.Equal(2826, plan.BytesPerRow);  // 266 + 4 x 512 + 32 x 16
        Assert.Equal(1L << 30, plan.MaintenanceWorkMemBytes);
        Assert.True(plan.Spills);
        Assert.Equal((1L << 30) / 2826, plan.RowsInMemory);
        Assert.True(plan.EstimatedSeconds > 0);
    }

    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("512MB", 512L << 20)]
    [InlineData("1048576", 1L << 20)]
    public void Ceiling_ParsesPostgresStyleSizes(string text, long bytes) => Assert.Equal(bytes, BuildMemoryCeiling.Parse(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("512kB")]
    [InlineData("-1GB")]
    [InlineData("100TB")]
    public void Ceiling_RejectsWhatCannotBeHonoured_WithOneClearLine(string text)
    {
        var error = Assert.Throws<GalleryException>(() => BuildMemoryCeiling.Parse(text));

        Assert.StartsWith("Index:BuildMemoryCeiling", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Ceiling_DefaultsToAQuarterOfMemory_AtMost4GiB() =>
        Assert.Equal(Math.Min(BuildMemoryCeiling.MachineBytes / 4, 4L << 30), BuildMemoryCeiling.Parse(null));

    [GeneratedRegex(@"hnsw graph no longer fits into maintenance_work_mem after (\d+) tuples")]
    private static partial Regex SpillNotice();
}
