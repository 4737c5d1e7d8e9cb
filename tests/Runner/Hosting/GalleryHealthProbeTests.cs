using System.Text.Json;
using DbFirst.Clip;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class GalleryHealthProbeTests
{
    [Fact]
    public async Task MigratedDatabase_IsOk_NamesTheTestModel_AndShowsThePgvectorVersion()
    {
        await using var database = await TestDatabase.CreateAsync();
        using var model = ClipModel.Load(TestPaths.TinyClipModel);
        var installed = await database.ScalarAsync<string>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");

        var report = await new GalleryHealthProbe(database.ConnectionString, model, ServeReadiness.Ready()).CheckAsync(CancellationToken.None);

        Assert.Equal("ok", report.Status);
        Assert.Equal("ok", report.Code);
        Assert.Null(report.Hint);
        Assert.True(report.Database!.MigrationsCurrent);
        Assert.True(report.Model.TestModel);
        Assert.Equal(model.Name, report.Model.Name);
        Assert.Equal(installed, report.Pgvector!.Installed);
        Assert.Equal("0.8.6", report.Pgvector.Minimum);
        Assert.Equal(PgvectorVersionOlder(installed!), report.Pgvector.BelowMinimum);
        Assert.Equal(report.Pgvector.BelowMinimum, report.Pgvector.Warning is not null);
    }

    [Fact]
    public async Task BeforeStartupCompletes_IsStarting_WithoutTouchingTheDatabase()
    {
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        var report = await new GalleryHealthProbe("Host=127.0.0.1;Port=1;Database=x;Username=u;Password=p;Timeout=2", model, ServeReadiness.Starting())
            .CheckAsync(CancellationToken.None);

        Assert.Equal("starting", report.Status);
        Assert.Equal("starting", report.Code);
        Assert.Null(report.Database);
    }

    [Fact]
    public async Task UnmigratedDatabase_IsDegraded_WithCodeAndHint()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        var degraded = await new GalleryHealthProbe(database.ConnectionString, model, ServeReadiness.Ready()).CheckAsync(CancellationToken.None);

        Assert.Equal("degraded", degraded.Status);
        Assert.Equal("migrations_pending", degraded.Code);
        Assert.Equal("run: dbfirst migrate up", degraded.Hint);
        Assert.NotEmpty(degraded.Database!.PendingMigrations);
    }

    [Fact]
    public async Task UnreachableDatabase_IsUnhealthy_WithCodeAndHint_AndNoErrorTextOrConnectionDetails()
    {
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        var report = await new GalleryHealthProbe("Host=127.0.0.1;Port=1;Database=secretdb;Username=someuser;Password=hunter2;Timeout=2", model, ServeReadiness.Ready())
            .CheckAsync(CancellationToken.None);
        var body = JsonSerializer.Serialize(report, DbFirstJson.Options);

        Assert.Equal("unhealthy", report.Status);
        Assert.Equal("database_unreachable", report.Code);
        Assert.Contains("scripts/db.sh start", report.Hint);
        Assert.False(report.Database!.Reachable);
        AssertNoLeak(body, "hunter2", "someuser", "secretdb", "127.0.0.1", "refused");
    }

    [Fact]
    public async Task RejectedLogin_AndMissingDatabase_HaveTheirOwnCodes_WithoutTheServersText()
    {
        using var model = ClipModel.Load(TestPaths.TinyClipModel);
        var wrongPassword = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString) { Password = "not-the-password", Pooling = false }.ConnectionString;
        var missingDatabase = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString) { Database = "dbfirst_no_such_database", Pooling = false }.ConnectionString;

        var rejected = await new GalleryHealthProbe(wrongPassword, model, ServeReadiness.Ready()).CheckAsync(CancellationToken.None);
        var missing = await new GalleryHealthProbe(missingDatabase, model, ServeReadiness.Ready()).CheckAsync(CancellationToken.None);

        Assert.Equal(("unhealthy", "database_login_rejected"), (rejected.Status, rejected.Code));
        Assert.Equal(("unhealthy", "database_missing"), (missing.Status, missing.Code));
        AssertNoLeak(JsonSerializer.Serialize(rejected, DbFirstJson.Options), "authentication", "not-the-password", new NpgsqlConnectionStringBuilder(wrongPassword).Username!);
        AssertNoLeak(JsonSerializer.Serialize(missing, DbFirstJson.Options), "dbfirst_no_such_database");
    }

    private static bool PgvectorVersionOlder(string installed) => DbFirst.Database.PgvectorVersion.IsOlder(installed, "0.8.6");

    private static void AssertNoLeak(string body, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
    }
}
