using DbFirst.Database;
using DbFirst.Indexing;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>Migration 80 on a gallery that already has embeddings: queued, not probed; and its Down restores the old function.</summary>
public sealed class StoredNeighboursMigrationTests
{
    [Fact]
    public async Task Upgrade_QueuesExistingImages_AndDownRestoresThePerImageSearch()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(56);
        await using (var dataSource = database.CreateDataSource())
        {
            var vectors = SyntheticGallery.GaussianMixture(300, 512, 5, seed: 8);
            await LegacyGallery.LoadAsync(dataSource, [.. vectors, vectors[0]], "synthetic");
        }

        await migrator.MigrateUpAsync();

        Assert.Equal(301L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_neighbours"));
        Assert.Equal(301, await database.ScalarAsync<int>("SELECT gallery.fill_neighbours(1000)"));
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.near_duplicates(0.001)"));

        await migrator.MigrateDownAsync(56);

        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.near_duplicates(0.001)"));
        Assert.Null(await database.ScalarAsync<string>("SELECT to_regclass('gallery.image_neighbours')::text"));
    }
}
