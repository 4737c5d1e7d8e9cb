namespace DbFirst.Tests.Support;

/// <summary>
/// The one way tests read and write embeddings directly: through <c>gallery.image_embeddings</c> and the model
/// registry (migration 100), as the pipeline and the search functions do.
/// </summary>
internal static class TestEmbeddings
{
    /// <summary>The active model's embeddings, aliased <c>e</c> (columns image_id, embedding, embedded_at), for a FROM clause.</summary>
    public const string Active = "(SELECT e.* FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id WHERE m.state = 'active') e";

    /// <summary>The active model's managed vector index, as an SQL expression of type regclass.</summary>
    public const string ActiveIndex = "format('gallery.image_embeddings_m%s_embedding_idx', (SELECT id FROM gallery.clip_models WHERE state = 'active'))::regclass";

    /// <summary>The active model's partition, as an SQL expression of type regclass.</summary>
    public const string ActivePartition = "format('gallery.image_embeddings_m%s', (SELECT id FROM gallery.clip_models WHERE state = 'active'))::regclass";

    /// <summary>How many images the active model has embedded.</summary>
    public static Task<long> CountAsync(TestDatabase database) =>
        database.ScalarAsync<long>($"SELECT count(*) FROM {Active}");

    /// <summary>
    /// Writes <paramref name="vectorSql"/> (an SQL expression of type vector, which may use the image's columns as
    /// <c>g.*</c>) as the embedding of the images matching <paramref name="where"/> (over <c>g</c>), for the model
    /// <paramref name="model"/> of <paramref name="dimension"/>, registered as active when the gallery has none yet.
    /// </summary>
    public static Task WriteAsync(TestDatabase database, string where, string vectorSql, string model = "test", int dimension = 512) =>
        database.ExecuteAsync(
            $"""
            SELECT gallery.ensure_active_model('{model}', {dimension}) WHERE NOT EXISTS (SELECT 1 FROM gallery.clip_models WHERE name = '{model}');
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (SELECT id FROM gallery.clip_models WHERE name = '{model}'), g.id, {vectorSql}
            FROM gallery.image_gallery g
            WHERE {where}
            ORDER BY g.id
            ON CONFLICT (model_id, image_id) DO UPDATE SET embedding = excluded.embedding, embedded_at = now()
            """);

    /// <summary>Deletes the active model's embeddings of the images matching <paramref name="where"/> (over <c>g</c>): they are pending again.</summary>
    public static Task ClearAsync(TestDatabase database, string where) =>
        database.ExecuteAsync(
            $"""
            DELETE FROM gallery.image_embeddings e
            USING gallery.clip_models m, gallery.image_gallery g
            WHERE m.state = 'active' AND e.model_id = m.id AND e.image_id = g.id AND ({where})
            """);

    /// <summary>Registers <paramref name="name"/> as the staged model and creates its storage (as <c>dbfirst model stage</c> does); returns its id.</summary>
    public static Task<int> StageAsync(TestDatabase database, string name, int dimension) =>
        database.ScalarAsync<int>(
            $"""
            WITH staged AS (
              INSERT INTO gallery.clip_models (name, dimension, state) VALUES ('{name}', {dimension}, 'staged') RETURNING id
            )
            SELECT id FROM staged, LATERAL gallery.create_model_storage(staged.id)
            """);

    /// <summary>Registers <paramref name="name"/> as the active model (a gallery with none yet), as the first embedder does.</summary>
    public static Task RegisterActiveAsync(TestDatabase database, string name, int dimension) =>
        database.ExecuteAsync($"SELECT gallery.ensure_active_model('{name}', {dimension})");
}
