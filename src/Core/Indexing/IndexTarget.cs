using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// The model whose vector index is managed: its partition <c>gallery.image_embeddings_m&lt;id&gt;</c>, the index DbFirst
/// manages there (<c>…_embedding_idx</c>, <c>…_embedding_idx_new</c> while a rebuild builds its replacement) and the
/// indexed expression <c>embedding::vector(N)</c> (or <c>embedding::halfvec(N)</c> at half precision, <c>binary_quantize(embedding::vector(N))::bit(N)</c> at binary), which a search names to use it.
/// </summary>
internal sealed record IndexTarget(int ModelId, string ModelName, int Dimension, string State)
{
    private const string ResolveSql = """
        SELECT m.id, m.name, m.dimension, m.state, to_regclass('gallery.image_embeddings_m' || m.id) IS NOT NULL
        FROM gallery.clip_models m
        WHERE CASE WHEN $1::text IS NULL THEN m.state = 'active' ELSE m.name = $1 END
        """;

    /// <summary>The model's partition of <c>gallery.image_embeddings</c>.</summary>
    public string Table => $"image_embeddings_m{ModelId}";

    /// <summary>The name the model's index always ends up with: the mark of the one index DbFirst manages on it.</summary>
    public string IndexName => $"{Table}_embedding_idx";

    /// <summary>The name a rebuild builds its new index under before swapping it in.</summary>
    public string SpareName => $"{IndexName}_new";

    /// <summary>The indexed column and operator class at <paramref name="precision"/>, cast to the model's dimension as pgvector's index methods need.</summary>
    public string IndexColumn(string precision) => IndexPrecision.IndexColumn(precision, Dimension);

    /// <summary>
    /// Where the model's tuned <paramref name="setting"/> (<c>hnsw.ef_search</c>, <c>ivfflat.probes</c>) is kept in
    /// <c>gallery.settings</c>: the plain key, which the search functions apply, for the active model; <c>setting@name</c>
    /// for any other, moved to the plain key when it becomes active (migration 111's trigger on <c>clip_models</c>).
    /// </summary>
    public string TuningKey(string setting) => State == "active" ? setting : $"{setting}@{ModelName}";

    /// <summary>The active model (<paramref name="modelName"/> null) or the model of that name.</summary>
    /// <exception cref="GalleryException">No active model yet, no model of that name, or its storage is gone.</exception>
    public static async Task<IndexTarget> ResolveAsync(NpgsqlConnection connection, string? modelName, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ResolveSql, connection) { Parameters = { new() { Value = (object?)modelName ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new GalleryException(modelName is null
                ? "no embedded rows yet: no model is active, so there is nothing to index (the first dbfirst embed registers its model; or dbfirst model stage DIR, then promote)"
                : $"no model named {modelName} (dbfirst model list)");
        }

        var target = new IndexTarget(reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3));
        return reader.GetBoolean(4)
            ? target
            : throw new GalleryException($"model {target.ModelName} has no embeddings table gallery.{target.Table}");
    }
}
