using Npgsql;

namespace DbFirst.Indexing;

/// <summary>What PostgreSQL's catalog and the table say about the vector indexes and the rows they cover.</summary>
internal static class VectorIndexCatalog
{
    // Any vector index, the managed one first: status reports whichever searches use.
    private const string IndexesSql = """
        SELECT c.relname, am.amname, coalesce(array_to_string(c.reloptions, ', '), ''), i.indisvalid, pg_relation_size(c.oid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'gallery.image_gallery'::regclass AND am.amname IN ('hnsw', 'ivfflat')
        ORDER BY c.relname = 'image_gallery_embedding_idx' DESC, i.indisvalid DESC, c.relname
        """;

    // The managed index and a spare left by an interrupted rebuild; nobody else's index is ever read here.
    private const string NamedIndexSql = """
        SELECT c.relname, am.amname, coalesce(array_to_string(c.reloptions, ', '), ''), i.indisvalid, pg_relation_size(c.oid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'gallery.image_gallery'::regclass AND c.relname = $1
        """;

    private const string RowsSql = "SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NOT NULL";

    private const string DimensionsSql = "SELECT vector_dims(embedding) FROM gallery.image_gallery WHERE embedding IS NOT NULL LIMIT 1";

    /// <summary>The vector index searches use: the managed one when present, else a valid one, else any.</summary>
    public static async Task<VectorIndexRow?> FindAnyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(IndexesSql, connection);
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The index called <paramref name="name"/> on the table, whatever its method.</summary>
    public static async Task<VectorIndexRow?> FindAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(NamedIndexSql, connection) { Parameters = { new() { Value = name } } };
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Rows with an embedding, the rows an index covers.</summary>
    public static async Task<long> CountEmbeddedAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await IndexSql.ScalarAsync<long>(connection, RowsSql, cancellationToken);

    /// <summary>The embeddings' dimensions; <see langword="null"/> with none stored.</summary>
    public static async Task<int?> DimensionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await IndexSql.ScalarAsync<int?>(connection, DimensionsSql, cancellationToken);

    private static async Task<VectorIndexRow?> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var method = reader.GetString(1);
        return new VectorIndexRow(reader.GetString(0), method, IndexParameters.Parse(method, reader.GetString(2)), reader.GetBoolean(3), reader.GetInt64(4));
    }
}
