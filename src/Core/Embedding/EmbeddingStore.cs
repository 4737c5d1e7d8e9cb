using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using DbFirst.Files;
using Pgvector;

namespace DbFirst.Embedding;

/// <summary>The SQL of the embedding pipeline: claiming rows, writing embeddings and failures.</summary>
internal sealed class EmbeddingStore
{
    // Pending rows in id order, so the partial index image_gallery_pending_idx serves the scan. A row that failed
    // since this run started waits for its next attempt time and a later run, so one run always ends.
    private const string ClaimPendingSql = """
        SELECT id, path, byte_size, content_sha256, ingested_via_symlink
        FROM gallery.image_gallery
        WHERE embedding IS NULL
          AND NOT embed_error_permanent
          AND (embed_next_attempt_at IS NULL OR embed_next_attempt_at <= now())
          AND (embed_failed_at IS NULL OR embed_failed_at < @run_started)
        ORDER BY id
        LIMIT @count
        FOR NO KEY UPDATE SKIP LOCKED
        """;

    // No index can find "another model than @model", so the stale pass walks the primary key from where it left off:
    // the whole table is read once per run rather than once per batch.
    private const string ClaimStaleSql = """
        SELECT id, path, byte_size, content_sha256, ingested_via_symlink
        FROM gallery.image_gallery
        WHERE id > @after
          AND embedding IS NOT NULL
          AND embedding_model IS DISTINCT FROM @model
        ORDER BY id
        LIMIT @count
        FOR NO KEY UPDATE SKIP LOCKED
        """;

    private const string WriteEmbeddingsSql = """
        UPDATE gallery.image_gallery AS g
        SET embedding = u.embedding,
            embedding_model = @model,
            embedded_at = now(),
            embed_attempts = 0,
            embed_error = NULL,
            embed_error_permanent = false,
            embed_failed_at = NULL,
            embed_next_attempt_at = NULL
        FROM unnest(@ids, @embeddings) AS u(id, embedding)
        WHERE g.id = u.id
        """;

    // A failed row loses any embedding it had: an embedding from another model must not answer searches
    // made with the configured one, and the row is pending (or failed) again, visibly. A transient failure waits
    // @delay, doubled per earlier failure, at most @max_delay.
    private const string WriteFailuresSql = """
        UPDATE gallery.image_gallery AS g
        SET embedding = NULL,
            embedding_model = NULL,
            embedded_at = NULL,
            embed_attempts = g.embed_attempts + 1,
            embed_error = u.error,
            embed_error_permanent = u.permanent,
            embed_failed_at = now(),
            embed_next_attempt_at = CASE WHEN u.permanent THEN NULL
                                         ELSE now() + least(@max_delay, @delay * power(2, least(g.embed_attempts, 30))) END
        FROM unnest(@ids, @errors, @permanent) AS u(id, error, permanent)
        WHERE g.id = u.id
        """;

    // A file that is no longer the one ingested loses its recorded hash: the trigger clears the embedding state,
    // and the next ingest sees "new content" and makes the row pending again. The failure written after this
    // statement says so and keeps the row out of claims until then.
    private const string ForgetContentSql = """
        UPDATE gallery.image_gallery SET content_sha256 = NULL WHERE id = ANY(@ids)
        """;

    private const string CountPendingSql = """
        SELECT count(*) FILTER (
                 WHERE embedding IS NULL AND NOT embed_error_permanent
                   AND (embed_next_attempt_at IS NULL OR embed_next_attempt_at <= now())),
               count(*) FILTER (
                 WHERE @reembed AND embedding IS NOT NULL AND embedding_model IS DISTINCT FROM @model)
        FROM gallery.image_gallery
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly EmbeddingOptions _options;

    public EmbeddingStore(NpgsqlDataSource dataSource, EmbeddingOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>Claims up to <paramref name="count"/> pending rows, or stale ones after <paramref name="afterId"/>; null when none is free.</summary>
    public async Task<ClaimedBatch?> ClaimAsync(bool stale, int count, long afterId, string model, DateTime runStarted, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var batch = new NpgsqlBatch(connection, transaction);
            var timeout = new NpgsqlBatchCommand("SELECT set_config('idle_in_transaction_session_timeout', @timeout, true)");
            timeout.Parameters.AddWithValue("timeout", ((long)_options.ClaimIdleTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
            batch.BatchCommands.Add(timeout);
            var claim = new NpgsqlBatchCommand(stale ? ClaimStaleSql : ClaimPendingSql);
            claim.Parameters.AddWithValue("count", count);
            if (stale)
            {
                claim.Parameters.AddWithValue("after", afterId);
                claim.Parameters.AddWithValue("model", model);
            }
            else
            {
                claim.Parameters.AddWithValue("run_started", runStarted);
            }

            batch.BatchCommands.Add(claim);
            var rows = new List<ClaimedRow>(count);
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.Add(new ClaimedRow(reader.GetInt64(0), new IngestedFile(
                        reader.GetString(1),
                        reader.IsDBNull(2) ? null : reader.GetInt64(2),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3),
                        reader.GetBoolean(4))));
                }
            }

            if (rows.Count == 0)
            {
                await transaction.DisposeAsync();
                await connection.DisposeAsync();
                return null;
            }

            return new ClaimedBatch(connection, transaction, rows);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Writes the batch's embeddings and failures with one statement each, then commits, releasing the rows.</summary>
    public async Task CompleteAsync(
        ClaimedBatch batch,
        string model,
        IReadOnlyList<(long Id, float[] Embedding)> embeddings,
        IReadOnlyList<(long Id, EmbedFailure Failure)> failures,
        CancellationToken cancellationToken)
    {
        await using var commands = new NpgsqlBatch(batch.Connection, batch.Transaction);
        if (embeddings.Count > 0)
        {
            var write = new NpgsqlBatchCommand(WriteEmbeddingsSql);
            write.Parameters.AddWithValue("model", model);
            write.Parameters.Add(new NpgsqlParameter<long[]>("ids", embeddings.Select(e => e.Id).ToArray()));
            write.Parameters.Add(new NpgsqlParameter<Vector[]>("embeddings", embeddings.Select(e => new Vector(e.Embedding)).ToArray()));
            commands.BatchCommands.Add(write);
        }

        var changed = failures.Where(f => f.Failure.ContentChanged).Select(f => f.Id).ToArray();
        if (changed.Length > 0)
        {
            var forget = new NpgsqlBatchCommand(ForgetContentSql);
            forget.Parameters.Add(new NpgsqlParameter<long[]>("ids", changed));
            commands.BatchCommands.Add(forget);
        }

        if (failures.Count > 0)
        {
            var write = new NpgsqlBatchCommand(WriteFailuresSql);
            write.Parameters.AddWithValue("delay", _options.RetryDelay);
            write.Parameters.AddWithValue("max_delay", _options.MaxRetryDelay);
            write.Parameters.Add(new NpgsqlParameter<long[]>("ids", failures.Select(f => f.Id).ToArray()));
            write.Parameters.Add(new NpgsqlParameter<string[]>("errors", failures.Select(f => f.Failure.Reason).ToArray()));
            write.Parameters.Add(new NpgsqlParameter<bool[]>("permanent", failures.Select(f => f.Failure.Permanent).ToArray()));
            commands.BatchCommands.Add(write);
        }

        if (commands.BatchCommands.Count > 0)
        {
            await commands.ExecuteNonQueryAsync(cancellationToken);
        }

        await batch.CommitAsync(cancellationToken);
    }

    /// <summary>The database's clock: a run's start is compared with <c>embed_failed_at</c>, which the database writes.</summary>
    public async Task<DateTime> NowAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT now()");
        return (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Rows a run would work on now: pending ones, and with <paramref name="reembed"/> stale ones.</summary>
    public async Task<long> CountWorkAsync(bool reembed, string model, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(CountPendingSql);
        command.Parameters.AddWithValue("reembed", reembed);
        command.Parameters.AddWithValue("model", NpgsqlDbType.Text, model);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetInt64(0) + reader.GetInt64(1);
    }
}
