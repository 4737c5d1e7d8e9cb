using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>
/// The content-change trigger is the one home of "new content resets derived data" (migrations 8, 51, 92): any
/// writer's new content_sha256 clears the embedding, its retry state and the description; other updates keep them.
/// </summary>
public sealed class ContentChangeTriggerTests
{
    private const string DerivedSql = """
        SELECT concat_ws('|', e.embedding IS NULL, e.name, e.embedded_at IS NULL, g.embed_attempts, g.embed_error,
                         g.embed_next_attempt_at IS NULL, g.description, g.description_model, g.described_at IS NULL, g.describe_input_tokens)
        FROM gallery.image_gallery g
        LEFT JOIN LATERAL (
          SELECT x.embedding, m.name, x.embedded_at
          FROM gallery.image_embeddings x JOIN gallery.clip_models m ON m.id = x.model_id
          WHERE x.image_id = g.id
        ) e ON true
        WHERE g.path = '/a.jpg'
        """;

    [Fact]
    public async Task NewContent_ByAnyWriter_ClearsEmbeddingAndDescription_ButKeepsTheDescribeHistory()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path, content_sha256, embed_attempts, embed_error,
                                               embed_next_attempt_at, description, description_model, described_at, describe_input_tokens)
            VALUES ('/a.jpg', '\x01', 2, 'earlier trouble', now(), 'a red square', 'claude', now(), 1500)
            """);
        await TestEmbeddings.WriteAsync(database, "true", "array_fill(0.1, ARRAY[512])::vector", model: "clip");

        await database.ExecuteAsync("UPDATE gallery.image_gallery SET taken_at = now() WHERE path = '/a.jpg'");
        var afterMetadata = await database.ScalarAsync<string>(DerivedSql);
        await database.ExecuteAsync("UPDATE gallery.image_gallery SET content_sha256 = '\\x02' WHERE path = '/a.jpg'");
        var afterContent = await database.ScalarAsync<string>(DerivedSql);

        Assert.Equal("f|clip|f|2|earlier trouble|f|a red square|claude|f|1500", afterMetadata);
        Assert.Equal("t|t|0|t|t|1500", afterContent);
    }
}
