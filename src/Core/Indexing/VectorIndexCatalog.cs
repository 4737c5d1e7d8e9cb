using Npgsql;

namespace DbFirst.Indexing;

/// <summary>What PostgreSQL's catalog and a model's partition say about its vector indexes and the rows they cover.</summary>
internal static class VectorIndexCatalog
{
    // A vector index's name, method, parameters, validity, size and precision (from its operator class); the
    // queries below differ only in which of the partition's indexes they read.
    private const string SelectIndexSql = """
        SELECT c.relname, am.amname, coalesce(array_to_string(c.reloptions, ', '), ''), i.indisvalid, pg_relation_size(c.oid),
               CASE WHEN o.opcname = 'bit_hamming_ops' THEN 'binary' WHEN o.opcname LIKE 'halfvec%' THEN 'half' ELSE 'full' END
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        JOIN pg_opclass o ON o.oid = i.indclass[0]

        """;

    // Any vector index, the managed one first: status reports whichever searches use.
    private const string IndexesSql = SelectIndexSql + """
        WHERE i.indrelid = to_regclass('gallery.' || $1) AND am.amname IN ('hnsw', 'ivfflat')
        ORDER BY c.relname = $2 DESC, i.indisvalid DESC, c.relname
        """;

    // The managed index and a spare left by an interrupted rebuild; nobody else's index is ever read here.
    private const string NamedIndexSql = SelectIndexSql + """
        WHERE i.indrelid = to_regclass('gallery.' || $1) AND c.relname = $2
        """;

    /// <summary>The vector index of the model's partition searches use: the managed one when present, else a valid one, else any.</summary>
    public static async Task<VectorIndexRow?> FindAnyAsync(NpgsqlConnection connection, IndexTarget target, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(IndexesSql, connection) { Parameters = { new() { Value = target.Table }, new() { Value = target.IndexName } } };
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The index called <paramref name="name"/> on the model's partition, whatever its method.</summary>
    public static async Task<VectorIndexRow?> FindAsync(NpgsqlConnection connection, IndexTarget target, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(NamedIndexSql, connection) { Parameters = { new() { Value = target.Table }, new() { Value = name } } };
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The model's embeddings, the rows its index covers.</summary>
    public static async Task<long> CountEmbeddedAsync(NpgsqlConnection connection, IndexTarget target, CancellationToken cancellationToken) =>
        await IndexSql.ScalarAsync<long>(connection, $"SELECT count(*) FROM gallery.{target.Table}", cancellationToken);

    private static async Task<VectorIndexRow?> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var method = reader.GetString(1);
        return new VectorIndexRow(reader.GetString(0), method, IndexParameters.Parse(method, reader.GetString(2)), reader.GetBoolean(3), reader.GetInt64(4), reader.GetString(5));
    }
}
