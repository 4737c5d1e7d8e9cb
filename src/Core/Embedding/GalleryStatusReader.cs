using Npgsql;

namespace DbFirst.Embedding;

/// <summary>Reads <see cref="GalleryStatus"/> with three queries, none of which locks anything.</summary>
internal sealed class GalleryStatusReader
{
    private const string CountsSql = """
        SELECT count(*),
               count(*) FILTER (WHERE embedding IS NOT NULL),
               count(*) FILTER (WHERE embedding IS NOT NULL AND embedding_model IS DISTINCT FROM @model),
               count(*) FILTER (WHERE embedding IS NULL AND NOT embed_error_permanent),
               count(*) FILTER (WHERE embedding IS NULL AND embed_error_permanent),
               count(*) FILTER (WHERE embedding IS NULL AND NOT embed_error_permanent AND embed_error IS NOT NULL),
               min(embed_next_attempt_at) FILTER (WHERE embedding IS NULL AND NOT embed_error_permanent)
        FROM gallery.image_gallery
        """;

    // Permanent failures (given up) and transient ones (retrying with back-off), by reason.
    private const string FailuresSql = """
        SELECT coalesce(embed_error, '(no reason recorded)'), embed_error_permanent, count(*), max(embed_next_attempt_at)
        FROM gallery.image_gallery
        WHERE embedding IS NULL AND (embed_error_permanent OR embed_error IS NOT NULL)
        GROUP BY 1, 2
        ORDER BY 2 DESC, 3 DESC, 1
        LIMIT 50
        """;

    private const string ModelsSql = """
        SELECT embedding_model, count(*)
        FROM gallery.image_gallery
        WHERE embedding IS NOT NULL
        GROUP BY 1
        ORDER BY 2 DESC
        """;

    private const string IndexesSql = """
        SELECT c.relname, am.amname, pg_relation_size(c.oid), pg_size_pretty(pg_relation_size(c.oid)), i.indisvalid
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'gallery.image_gallery'::regclass
          AND am.amname IN ('hnsw', 'ivfflat')
        ORDER BY c.relname
        """;

    private readonly NpgsqlDataSource _dataSource;

    public GalleryStatusReader(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public async Task<GalleryStatus> ReadAsync(string configuredModel, CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        long[] counts;
        DateTime? nextAttempt;
        await using (var command = new NpgsqlCommand(CountsSql, connection))
        {
            command.Parameters.AddWithValue("model", configuredModel);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            counts = [reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)];
            nextAttempt = reader.IsDBNull(6) ? null : reader.GetDateTime(6);
        }

        var failures = await ReadListAsync(connection, FailuresSql,
            r => new FailureGroup(r.GetString(0), r.GetBoolean(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetDateTime(3)), cancellationToken);
        var models = await ReadListAsync(connection, ModelsSql,
            r => new ModelCount(r.IsDBNull(0) ? "(unknown)" : r.GetString(0), r.GetInt64(1)), cancellationToken);
        var indexes = await ReadListAsync(connection, IndexesSql,
            r => new VectorIndexInfo(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetBoolean(4)), cancellationToken);
        return new GalleryStatus(counts[0], counts[1], counts[2], counts[3], counts[4], failures, models, indexes, counts[5], nextAttempt);
    }

    private static async Task<IReadOnlyList<T>> ReadListAsync<T>(
        NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var list = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(read(reader));
        }

        return list;
    }
}
