using Npgsql;
using DbFirst.Models;

namespace DbFirst.Embedding;

/// <summary>
/// Reads <see cref="GalleryStatus"/>, none of its queries locking anything. Embedded and pending are the active
/// model's (the one searches use), from <c>gallery.model_coverage()</c> and the pending queue; every model's
/// coverage is listed too. A gallery with no model yet has nothing embedded and every image pending.
/// </summary>
internal sealed class GalleryStatusReader
{
    private const string CoverageSql = """
        SELECT c.model_id, c.name, c.state, c.dimension, c.embedded, c.total, c.index_name, m.source, m.layout
        FROM gallery.model_coverage() AS c
        JOIN gallery.clip_models AS m ON m.id = c.model_id
        ORDER BY CASE c.state WHEN 'active' THEN 0 WHEN 'staged' THEN 1 ELSE 2 END, m.retired_at DESC NULLS LAST, c.model_id
        """;

    // The active model's pending rows and their retry state; @model_id is NULL when no model is registered, and then
    // every image counts as pending. "other" counts pending rows that another model has embedded.
    private const string CountsSql = """
        WITH pending AS (
          SELECT g.embed_error_permanent, g.embed_error, g.embed_next_attempt_at
          FROM gallery.embedding_pending p
          JOIN gallery.image_gallery g ON g.id = p.image_id
          WHERE p.model_id = @model_id
          UNION ALL
          SELECT g.embed_error_permanent, g.embed_error, g.embed_next_attempt_at
          FROM gallery.image_gallery g
          WHERE @model_id IS NULL
        )
        SELECT (SELECT count(*) FROM gallery.image_gallery),
               count(*) FILTER (WHERE NOT embed_error_permanent),
               count(*) FILTER (WHERE embed_error_permanent),
               count(*) FILTER (WHERE NOT embed_error_permanent AND embed_error IS NOT NULL),
               min(embed_next_attempt_at) FILTER (WHERE NOT embed_error_permanent),
               (SELECT count(*)
                FROM gallery.embedding_pending p
                WHERE p.model_id = @model_id
                  AND EXISTS (SELECT 1 FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id
                              WHERE m.id <> @model_id AND e.image_id = p.image_id))
        FROM pending
        """;

    // Permanent failures (given up) and transient ones (retrying with back-off), by reason, among the active model's pending rows.
    private const string FailuresSql = """
        SELECT coalesce(g.embed_error, '(no reason recorded)'), g.embed_error_permanent, count(*), max(g.embed_next_attempt_at)
        FROM gallery.image_gallery g
        WHERE (g.embed_error_permanent OR g.embed_error IS NOT NULL)
          AND (@model_id IS NULL OR EXISTS (SELECT 1 FROM gallery.embedding_pending p WHERE p.model_id = @model_id AND p.image_id = g.id))
        GROUP BY 1, 2
        ORDER BY 2 DESC, 3 DESC, 1
        LIMIT 50
        """;

    // The active model's vector indexes, on its partition.
    private const string IndexesSql = """
        SELECT c.relname, am.amname, pg_relation_size(c.oid), pg_size_pretty(pg_relation_size(c.oid)), i.indisvalid
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = to_regclass('gallery.image_embeddings_m' || @model_id)
          AND am.amname IN ('hnsw', 'ivfflat')
        ORDER BY c.relname
        """;

    private readonly NpgsqlDataSource _dataSource;

    public GalleryStatusReader(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The status as of now.</summary>
    public async Task<GalleryStatus> ReadAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for every query, so the counts add up even while embedding runs.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var coverage = await ReadListAsync(connection, CoverageSql, null, r => new ModelCoverage(
            r.GetInt32(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt64(4), r.GetInt64(5),
            r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8)), cancellationToken);
        var active = coverage.FirstOrDefault(m => m.State == "active");
        int? modelId = active?.Id;

        long[] counts;
        DateTime? nextAttempt;
        await using (var command = new NpgsqlCommand(CountsSql, connection))
        {
            command.Parameters.Add(ModelIdParameter(modelId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            counts = [reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.IsDBNull(5) ? 0 : reader.GetInt64(5)];
            nextAttempt = reader.IsDBNull(4) ? null : reader.GetDateTime(4);
        }

        var failures = await ReadListAsync(connection, FailuresSql, modelId,
            r => new FailureGroup(r.GetString(0), r.GetBoolean(1), r.GetInt64(2), r.IsDBNull(3) ? null : r.GetDateTime(3)), cancellationToken);
        var indexes = modelId is null
            ? []
            : await ReadListAsync(connection, IndexesSql, modelId,
                r => new VectorIndexInfo(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetBoolean(4)), cancellationToken);
        var models = coverage.Where(m => m.Embedded > 0).Select(m => new ModelCount(m.Name, m.Embedded)).ToList();
        return new GalleryStatus(
            Rows: counts[0],
            Embedded: active?.Embedded ?? 0,
            EmbeddedWithOtherModel: counts[4],
            Pending: counts[1],
            Failed: counts[2],
            Failures: failures,
            Models: models,
            Indexes: indexes,
            Retrying: counts[3],
            NextAttemptAt: nextAttempt,
            ActiveModel: active?.Name,
            Coverage: coverage);
    }

    private static NpgsqlParameter ModelIdParameter(int? modelId) =>
        new("model_id", NpgsqlTypes.NpgsqlDbType.Integer) { Value = modelId is { } id ? id : DBNull.Value };

    private static async Task<IReadOnlyList<T>> ReadListAsync<T>(
        NpgsqlConnection connection, string sql, int? modelId, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (sql.Contains("@model_id", StringComparison.Ordinal))
        {
            command.Parameters.Add(ModelIdParameter(modelId));
        }

        var list = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(read(reader));
        }

        return list;
    }
}
