using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary><c>gallery.request_reembed</c> (migration 70), which the gallery page's "re-embed" button calls.</summary>
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
    public async Task Analyst_CannotReembed()
    {
        await using var database = await TestDatabase.CreateAsync();

        var error = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => database.ScalarAsync<bool?>("SET ROLE gallery_analyst; SELECT gallery.request_reembed(1)"));

        Assert.Equal("42501", error.SqlState);
    }
}
