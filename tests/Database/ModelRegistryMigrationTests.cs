using DbFirst.Database;
using DbFirst.Indexing;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>Migration 100 on a gallery at schema version 90 whose rows were embedded by two models.</summary>
public sealed class ModelRegistryMigrationTests
{
    [Fact]
    public async Task Upgrade_KeepsEveryEmbeddingAndId_MostUsedModelActive_SimilarImagesUnchanged_AndDownRestoresTheColumn()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(90);
        long[] a, b;
        await using (var dataSource = database.CreateDataSource())
        {
            a = await LegacyGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(40, 512, 4, seed: 11), "clip-a");
            b = await LegacyGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(15, 512, 3, seed: 12), "clip-b");
        }

        await database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) SELECT '/legacy/new/' || i FROM generate_series(1, 5) i");
        await database.ExecuteAsync("CREATE TABLE public.before AS SELECT id, embedding, embedding_model FROM gallery.image_gallery");
        // Migration 90's similar_images ranks both models' rows: the clip-a rows among them are what must remain.
        var similarBefore = await database.ScalarAsync<string>(
            $"""
            SELECT string_agg(s.id || ':' || round(s.distance::numeric, 5), ',' ORDER BY s.distance, s.id)
            FROM (SELECT * FROM gallery.similar_images({a[3]}, 50) s WHERE s.id IN (SELECT id FROM public.before WHERE embedding_model = 'clip-a') ORDER BY s.distance, s.id LIMIT 5) s
            """);

        await migrator.MigrateUpAsync();

        Assert.Equal("clip-a:active:512,clip-b:retired:512", await database.ScalarAsync<string>(
            "SELECT string_agg(name || ':' || state || ':' || dimension, ',' ORDER BY id) FROM gallery.clip_models"));
        Assert.Equal(55L, await database.ScalarAsync<long>(
            """
            SELECT count(*)
            FROM public.before o
            JOIN gallery.image_embeddings e ON e.image_id = o.id
            JOIN gallery.clip_models m ON m.id = e.model_id AND m.name = o.embedding_model
            WHERE e.embedding = o.embedding::vector
            """));
        Assert.Equal(55L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_embeddings"));
        Assert.Equal("clip-a:40:60:image_embeddings_m1_embedding_idx,clip-b:15:60:", await database.ScalarAsync<string>(
            "SELECT string_agg(name || ':' || embedded || ':' || total || ':' || coalesce(index_name, ''), ',' ORDER BY model_id) FROM gallery.model_coverage()"));
        Assert.Equal("1:20,2:45", await database.ScalarAsync<string>(
            "SELECT string_agg(model_id || ':' || n, ',' ORDER BY model_id) FROM (SELECT model_id, count(*) AS n FROM gallery.embedding_pending GROUP BY 1) p"));
        Assert.Contains("m='16'", await database.ScalarAsync<string>("SELECT indexdef FROM pg_indexes WHERE indexname = 'image_embeddings_m1_embedding_idx'"));
        Assert.Equal(similarBefore, await database.ScalarAsync<string>(
            $"SELECT string_agg(s.id || ':' || round(s.distance::numeric, 5), ',' ORDER BY s.distance, s.id) FROM gallery.similar_images({a[3]}, 5) s"));
        Assert.Equal(0L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.similar_images({a[3]}, 50) WHERE id IN ({string.Join(',', b)})"));
        Assert.Equal(0L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'gallery.image_gallery'::regclass AND attname IN ('embedding', 'embedding_model', 'embedded_at') AND NOT attisdropped"));

        await migrator.MigrateDownAsync(90, force: true);

        Assert.Equal(40L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery g JOIN public.before o USING (id) WHERE g.embedding = o.embedding AND g.embedding_model = 'clip-a'"));
        Assert.Equal(20L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NULL"));
        Assert.NotNull(await database.ScalarAsync<string>("SELECT to_regclass('gallery.image_gallery_embedding_idx')::text"));
    }

    [Fact]
    public async Task Down_RefusesWithoutForce_WhileAnotherModelsEmbeddingsWouldBeLost()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(90);
        await using (var dataSource = database.CreateDataSource())
        {
            await LegacyGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(4, 512, 1, seed: 1), "clip-a");
            await LegacyGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(2, 512, 1, seed: 2), "clip-b");
        }

        await migrator.MigrateUpAsync();

        var refusal = await Assert.ThrowsAsync<GalleryException>(() => migrator.MigrateDownAsync(90));
        Assert.Contains("2 embeddings of models other than the active one", refusal.Message);
        Assert.Equal(6L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_embeddings"));
    }
}
