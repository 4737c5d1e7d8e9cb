using DbFirst.Clip;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Hosting;

public sealed class GalleryHealthProbeTests
{
    [Fact]
    public async Task MigratedDatabase_IsOk_AndNamesTheTestModel()
    {
        await using var database = await TestDatabase.CreateAsync();
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        var report = await new GalleryHealthProbe(database.ConnectionString, model).CheckAsync(CancellationToken.None);

        Assert.Equal("ok", report.Status);
        Assert.True(report.Database.MigrationsCurrent);
        Assert.True(report.Model.TestModel);
        Assert.Equal(model.Name, report.Model.Name);
    }

    [Fact]
    public async Task UnmigratedDatabase_IsDegraded_AndUnreachableOne_Unhealthy_WithoutTheConnectionString()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        var degraded = await new GalleryHealthProbe(database.ConnectionString, model).CheckAsync(CancellationToken.None);
        var unreachable = await new GalleryHealthProbe("Host=127.0.0.1;Port=1;Database=x;Username=u;Password=hunter2;Timeout=2", model).CheckAsync(CancellationToken.None);

        Assert.Equal("degraded", degraded.Status);
        Assert.NotEmpty(degraded.Database.PendingMigrations);
        Assert.Equal("unhealthy", unreachable.Status);
        Assert.False(unreachable.Database.Reachable);
        Assert.DoesNotContain("hunter2", unreachable.Database.Error);
    }
}
