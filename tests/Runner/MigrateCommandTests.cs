using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

public sealed class MigrateCommandTests
{
    [Fact]
    public async Task UnreachableDatabase_GivesOneClearLine_AndExitCode1()
    {
        var run = await CliRun.InvokeAsync("migrate", "up", "--connection", "Host=127.0.0.1;Port=1;Database=nowhere;Username=u;Password=secret;Timeout=3");

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("dbfirst: cannot reach PostgreSQL at 127.0.0.1:1/nowhere", line);
        Assert.DoesNotContain("secret", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task MalformedConnectionString_GivesOneClearLine()
    {
        var run = await CliRun.InvokeAsync("migrate", "list", "--connection", "Hots=typo");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("dbfirst: invalid connection string", run.Error);
    }

    [Fact]
    public async Task UpListPreviewDown_ThroughTheCommandLine()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var connection = database.ConnectionString;

        var preview = await CliRun.InvokeAsync("migrate", "preview", "--connection", connection);
        Assert.Equal(0, preview.ExitCode);
        Assert.Contains("CREATE TABLE gallery.image_gallery", preview.Out);

        var up = await CliRun.InvokeAsync("migrate", "up", "--connection", connection);
        Assert.Equal(0, up.ExitCode);
        Assert.Contains("applied 1, 2, 3", up.Error);

        var list = await CliRun.InvokeAsync("migrate", "list", "--connection", connection);
        Assert.Equal(0, list.ExitCode);
        Assert.DoesNotContain("pending", list.Out);
        Assert.Contains("Create table gallery.image_gallery", list.Out);

        var down = await CliRun.InvokeAsync("migrate", "down", "--to", "0", "--connection", connection);
        Assert.Equal(0, down.ExitCode);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = 'image_gallery'"));
    }
}
