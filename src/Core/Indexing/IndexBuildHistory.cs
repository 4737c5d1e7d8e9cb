using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// <c>gallery.index_builds</c>, the record of every build of the managed index, and the table's change counters
/// each build is stamped with: the baselines the maintain-index job measures drift and bloat against.
/// </summary>
internal static class IndexBuildHistory
{
    private const string LastBuildSql = """
        SELECT method, parameters, operation, row_count, tuples_changed, build_seconds, size_bytes, built_at, precision
        FROM gallery.index_builds
        WHERE index_name = $1
        ORDER BY id DESC
        LIMIT 1
        """;

    private const string RecordBuildSql = """
        INSERT INTO gallery.index_builds (index_name, method, parameters, operation, row_count, tuples_changed, build_seconds, size_bytes, precision)
        VALUES ($1, $2, $3, $4, $5, $6, $7, pg_relation_size(('gallery.' || quote_ident($1))::regclass), $8)
        """;

    // Non-HOT updates and deletes each leave a dead element in a vector index.
    private const string TuplesChangedSql = """
        SELECT coalesce(n_tup_upd - n_tup_hot_upd + n_tup_del, 0), coalesce(n_dead_tup, 0)
        FROM pg_stat_user_tables
        WHERE relid = to_regclass('gallery.' || $1)
        """;

    /// <summary>The newest recorded build of the model's managed index.</summary>
    public static async Task<IndexBuild?> LastAsync(NpgsqlConnection connection, IndexTarget target, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LastBuildSql, connection) { Parameters = { new() { Value = target.IndexName } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var method = reader.GetString(0);
        // The table's CHECK admits only hnsw and ivfflat, the methods Parse knows.
        return new IndexBuild(
            method, IndexParameters.Parse(method, reader.GetString(1))!, reader.GetString(2), reader.GetInt64(3),
            reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6),
            reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8));
    }

    /// <summary>Records a finished build of the managed index, stamped with the table's change counters now.</summary>
    public static async Task<IndexBuild> RecordAsync(
        NpgsqlConnection connection, IndexTarget target, IndexParameters parameters, string precision, string operation, long rows, double seconds, CancellationToken cancellationToken)
    {
        var (changed, _) = await ReadTuplesChangedAsync(connection, target, cancellationToken);
        await using (var command = new NpgsqlCommand(RecordBuildSql, connection)
        {
            Parameters =
            {
                new() { Value = target.IndexName }, new() { Value = parameters.Method }, new() { Value = parameters.ToString() },
                new() { Value = operation }, new() { Value = rows }, new() { Value = changed }, new() { Value = seconds },
                new() { Value = precision },
            },
        })
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var size = await IndexSql.ScalarAsync<long>(connection, $"SELECT pg_relation_size('gallery.{target.IndexName}'::regclass)", cancellationToken);
        return new IndexBuild(parameters.Method, parameters, operation, rows, changed, seconds, size, DateTimeOffset.UtcNow, precision);
    }

    /// <summary>The model partition's non-HOT updates plus deletes since statistics began, and its dead tuples now.</summary>
    public static async Task<(long Changed, long Dead)> ReadTuplesChangedAsync(NpgsqlConnection connection, IndexTarget target, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TuplesChangedSql, connection) { Parameters = { new() { Value = target.Table } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }
}
