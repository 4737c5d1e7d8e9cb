using DbFirst.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Ingest;

public sealed class PruneSafetyTests
{
    [Fact]
    public async Task EmptyMountPoint_PruneDeletesNothing_ExitsWith1AndOneLineNamingTheCount()
    {
        using var folder = new ScratchFolder();
        var photos = folder.CreateDirectory("nas");
        for (var i = 0; i < 5; i++)
        {
            folder.Write($"nas/{i}.png", TestImages.Png(6, 6, seed: i));
        }

        await using var database = await TestDatabase.CreateAsync();
        Assert.Equal(0, (await CliRun.InvokeAsync("ingest", photos, "--connection", database.ConnectionString)).ExitCode);
        await database.ExecuteAsync("UPDATE gallery.image_gallery SET description = 'paid for'");

        // What an unmounted share looks like: the mount point is there, its files are not.
        foreach (var file in Directory.GetFiles(photos))
        {
            File.Delete(file);
        }

        var run = await CliRun.InvokeAsync("ingest", photos, "--prune", "--connection", database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        var line = Assert.Single(run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("dbfirst: refusing to prune 5 rows:", line);
        Assert.Contains("yielded no files", line);
        Assert.Equal(5L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE description = 'paid for'"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.prune_log"));
    }

    [Fact]
    public async Task DryRun_ListsWhatWouldGo_DeletesNothing_ForceDeletesAndLogsEachRow()
    {
        using var folder = new ScratchFolder();
        var paths = Enumerable.Range(0, 4).Select(i => folder.Write($"{i}.png", TestImages.Png(6, 6, seed: i))).ToList();
        await using var database = await TestDatabase.CreateAsync();
        await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString);
        File.Delete(paths[0]);
        File.Delete(paths[1]);

        var refused = await CliRun.InvokeAsync("ingest", folder.Root, "--prune", "--connection", database.ConnectionString);
        var dryRun = await CliRun.InvokeAsync("ingest", folder.Root, "--prune", "--dry-run", "--connection", database.ConnectionString);
        var rowsAfterDryRun = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery");
        var forced = await CliRun.InvokeAsync("ingest", folder.Root, "--prune", "--force", "--connection", database.ConnectionString);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refusing to prune 2 rows: 2 of the 4 rows under", refused.Error);
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Contains("would prune 2 rows, deleted none", dryRun.Error);
        Assert.Contains($"missing: {paths[0]}", dryRun.Error);
        Assert.Contains($"missing: {paths[1]}", dryRun.Error);
        Assert.Equal(4L, rowsAfterDryRun);
        Assert.Equal(0, forced.ExitCode);
        Assert.Contains("pruned 2 rows", forced.Error);
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
        Assert.Equal(2L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.prune_log WHERE forced AND root = '{folder.Root}' AND path IN ('{paths[0]}', '{paths[1]}')"));
        Assert.True(await database.ScalarAsync<bool>("SELECT has_table_privilege('gallery_operator', 'gallery.prune_log', 'SELECT')"));
    }

    [Fact]
    public async Task RootOnAnotherFilesystemThanAtIngest_PruneRefused()
    {
        using var folder = new ScratchFolder();
        var paths = Enumerable.Range(0, 20).Select(i => folder.Write($"{i}.png", TestImages.Png(6, 6, seed: i))).ToList();
        await using var database = await TestDatabase.CreateAsync();
        await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString);
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT count(*) FROM gallery.ingest_roots WHERE path = '{folder.Root}'"));

        // As if another disk (or none) were mounted there now.
        await database.ExecuteAsync("UPDATE gallery.ingest_roots SET device = device + 1");
        File.Delete(paths[0]);

        var run = await CliRun.InvokeAsync("ingest", folder.Root, "--prune", "--connection", database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("refusing to prune 1 rows", run.Error);
        Assert.Contains("another filesystem", run.Error);
        Assert.Equal(20L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
    }

    [Fact]
    public async Task FewVanishedFiles_UnderTheThreshold_ArePruned()
    {
        using var folder = new ScratchFolder();
        var paths = Enumerable.Range(0, 20).Select(i => folder.Write($"{i}.png", TestImages.Png(6, 6, seed: i))).ToList();
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        await ingester.IngestAsync(new IngestOptions([folder.Root]));
        File.Delete(paths[0]);
        File.Delete(paths[1]);

        var report = await ingester.IngestAsync(new IngestOptions([folder.Root], Prune: true));

        Assert.Equal(2, report.Pruned);
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.prune_log WHERE NOT forced"));
    }

    [Fact]
    public async Task DanglingLinkToAFolder_NotFollowed_ItsRowsAreNeverMissing()
    {
        using var folder = new ScratchFolder();
        using var elsewhere = new ScratchFolder();
        for (var i = 0; i < 3; i++)
        {
            elsewhere.Write($"{i}.png", TestImages.Png(6, 6, seed: i));
        }

        folder.Write("local.png", TestImages.Png(6, 6, seed: 9));
        folder.Link("share", elsewhere.Root);
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        await ingester.IngestAsync(new IngestOptions([folder.Root], FollowSymlinks: true));
        Assert.Equal(4L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));

        // The share's target goes offline: the link dangles.
        Directory.Move(elsewhere.Root, elsewhere.Root + "-offline");
        try
        {
            var report = await ingester.IngestAsync(new IngestOptions([folder.Root], Prune: true));

            Assert.Empty(report.Missing);
            Assert.Equal(0, report.Pruned);
            Assert.Equal(4L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
        }
        finally
        {
            Directory.Move(elsewhere.Root + "-offline", elsewhere.Root);
        }
    }

    [Fact]
    public void Guard_SingleVanishedFile_AlwaysAllowed_LargeShareRefused()
    {
        Assert.Null(PruneGuard.Check(new PruneRootFacts("/p", Rows: 2, SeenFiles: 1, Missing: 1, 7, 7, null), 0.1));
        Assert.Null(PruneGuard.Check(new PruneRootFacts("/p", Rows: 20, SeenFiles: 18, Missing: 2, 7, 7, null), 0.1));
        Assert.Contains("3 of the 20 rows", PruneGuard.Check(new PruneRootFacts("/p", Rows: 20, SeenFiles: 17, Missing: 3, 7, 7, null), 0.1));
        Assert.Contains("yielded no files", PruneGuard.Check(new PruneRootFacts("/p", Rows: 1, SeenFiles: 0, Missing: 1, 7, 7, null), 0.1));
    }
}
