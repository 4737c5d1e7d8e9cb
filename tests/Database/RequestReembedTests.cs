using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary><c>gallery.request_reembed</c> (migration 70; every model's embedding since 100, without a join since 110), which the gallery page's "re-embed" button calls.</summary>
public sealed class RequestReembedTests
{
    [Fact]
    public async Task Operator_CanReembedAnImage_WhichBecomesPendingWithACleanRetryState()
    {
        await using var database = await TestDatabase.CreateAsync();
        var id = await database.ScalarAsync<long>("""
            INSERT INTO gallery.image_gallery (path, embed_attempts, embed_error, embed_error_permanent)
            VALUES ('/p/a.jpg', 2, 'stale', true)
            RETURNING id
            """);
        await TestEmbeddings.WriteAsync(database, "true", "array_fill(0.1, ARRAY[512])::vector", model: "old-model");

        var asOperator = await database.ScalarAsync<bool?>($"SET ROLE gallery_operator; SELECT gallery.request_reembed({id})");
        var unknown = await database.ScalarAsync<bool?>("SELECT gallery.request_reembed(987654321)");
        var row = await database.ScalarAsync<string>(
            $"SELECT concat_ws(',', NOT EXISTS (SELECT 1 FROM gallery.image_embeddings WHERE image_id = {id}), EXISTS (SELECT 1 FROM gallery.embedding_pending WHERE image_id = {id}), embed_attempts, embed_error IS NULL, embed_error_permanent) FROM gallery.image_gallery WHERE id = {id}");

        Assert.True(asOperator);
        Assert.Null(unknown);
        Assert.Equal("t,t,0,t,f", row);
    }

    [Fact]
    public async Task TwoModels_EveryModelsEmbeddingOfTheImageGoes_OtherImagesKeepTheirs()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path) VALUES ('/p/a.jpg'), ('/p/b.jpg');
            SELECT gallery.ensure_active_model('model-a', 2);
            SELECT gallery.stage_model('model-b', 3, '/models/b', 'immich');
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT m.id, g.id, array_fill(0.5, ARRAY[m.dimension])::vector FROM gallery.clip_models m CROSS JOIN gallery.image_gallery g;
            """);
        var id = await database.ScalarAsync<long>("SELECT id FROM gallery.image_gallery WHERE path = '/p/a.jpg'");

        Assert.True(await database.ScalarAsync<bool?>($"SET ROLE gallery_operator; SELECT gallery.request_reembed({id})"));

        Assert.Equal("/p/b.jpg:model-a,/p/b.jpg:model-b", await database.ScalarAsync<string>("""
            SELECT string_agg(g.path || ':' || m.name, ',' ORDER BY g.path, m.name)
            FROM gallery.image_embeddings e JOIN gallery.image_gallery g ON g.id = e.image_id JOIN gallery.clip_models m ON m.id = e.model_id
            """));
        Assert.Equal("/p/a.jpg:model-a,/p/a.jpg:model-b", await database.ScalarAsync<string>("""
            SELECT string_agg(g.path || ':' || m.name, ',' ORDER BY g.path, m.name)
            FROM gallery.embedding_pending p JOIN gallery.image_gallery g ON g.id = p.image_id JOIN gallery.clip_models m ON m.id = p.model_id
            """));
        // Migration 110: the DELETE no longer joins the registry it never needed.
        Assert.DoesNotContain("clip_models", await database.ScalarAsync<string>("SELECT prosrc FROM pg_proc WHERE oid = 'gallery.request_reembed(bigint)'::regprocedure"));
    }

    [Fact]
    public async Task Analyst_CannotReembed()
    {
        await using var database = await TestDatabase.CreateAsync();

        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => database.ScalarAsync<bool?>("SET ROLE gallery_analyst; SELECT gallery.request_reembed(1)"));

        Assert.Equal("42501", error.SqlState);
    }
}
