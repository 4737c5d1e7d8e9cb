using System.Globalization;
using Npgsql;
using DbFirst.Files;
using DbFirst.Models;
using Pgvector;

namespace DbFirst.Embedding;

/// <summary>The SQL of the embedding pipeline: claiming rows, writing embeddings and failures.</summary>
internal sealed class EmbeddingStore
{
    // One model's pending rows in id order: a range of embedding_pending's primary key (model_id, image_id), joined to
    // the image by its key, so a claim costs the same at any gallery size. Both rows are locked: the queue row so that
    // no other claim of this model takes the image, the image row so that new content (ingest) waits for this batch
    // instead of being overwritten by an embedding of the old bytes; a claim for another model skips it meanwhile.
    // A row that failed since this run started waits for its next attempt time and a later run, so one run always ends.
    private const string ClaimPendingSql = """
        SELECT g.id, g.path, g.byte_size, g.content_sha256, g.ingested_via_symlink
        FROM gallery.embedding_pending p
        JOIN gallery.image_gallery g ON g.id = p.image_id
        WHERE p.model_id = @model_id
          AND NOT g.embed_error_permanent
          AND (g.embed_next_attempt_at IS NULL OR g.embed_next_attempt_at <= now())
          AND (g.embed_failed_at IS NULL OR g.embed_failed_at < @run_started)
        ORDER BY p.image_id
        LIMIT @count
        FOR NO KEY UPDATE OF g, p SKIP LOCKED
        """;

    // The trigger on image_embeddings takes the rows off the pending queue in the same statement.
    private const string WriteEmbeddingsSql = """
        INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
        SELECT @model_id, u.id, u.embedding
        FROM unnest(@ids, @embeddings) AS u(id, embedding)
        ORDER BY u.id
        ON CONFLICT (model_id, image_id) DO UPDATE SET embedding = excluded.embedding, embedded_at = now()
        """;

    // Only rows that carry a failure are written: most batches change no image row at all.
    private const string ClearFailuresSql = """
        UPDATE gallery.image_gallery
        SET embed_attempts = 0,
            embed_error = NULL,
            embed_error_permanent = false,
            embed_failed_at = NULL,
            embed_next_attempt_at = NULL
        WHERE id = ANY(@ids)
          AND (embed_attempts <> 0 OR embed_error IS NOT NULL OR embed_failed_at IS NOT NULL)
        """;

    // The retry state belongs to the file, whichever model read it. A transient failure waits @delay, doubled per
    // earlier failure, at most @max_delay; the row stays pending for the model.
    private const string WriteFailuresSql = """
        UPDATE gallery.image_gallery AS g
        SET embed_attempts = g.embed_attempts + 1,
            embed_error = u.error,
            embed_error_permanent = u.permanent,
            embed_failed_at = now(),
            embed_next_attempt_at = CASE WHEN u.permanent THEN NULL
                                         ELSE now() + least(@max_delay, @delay * power(2, least(g.embed_attempts, 30))) END
        FROM unnest(@ids, @errors, @permanent) AS u(id, error, permanent)
        WHERE g.id = u.id
        """;

    // A file that is no longer the one ingested loses its recorded hash: the triggers delete every model's embedding
    // and clear the retry state, and the next ingest sees "new content". The failure written after this statement
    // says so and keeps the row out of claims until then.
    private const string ForgetContentSql = """
        UPDATE gallery.image_gallery SET content_sha256 = NULL WHERE id = ANY(@ids)
        """;

    private const string CountPendingSql = """
        SELECT count(*)
        FROM gallery.embedding_pending p
        JOIN gallery.image_gallery g ON g.id = p.image_id
        WHERE p.model_id = @model_id
          AND NOT g.embed_error_permanent
          AND (g.embed_next_attempt_at IS NULL OR g.embed_next_attempt_at <= now())
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly EmbeddingOptions _options;

    public EmbeddingStore(NpgsqlDataSource dataSource, EmbeddingOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>Claims up to <paramref name="count"/> rows pending for <paramref name="model"/>; null when none is free.</summary>
    public async Task<ClaimedBatch?> ClaimAsync(RegisteredModel model, int count, DateTime runStarted, CancellationToken cancellationToken)
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
            var claim = new NpgsqlBatchCommand(ClaimPendingSql);
            claim.Parameters.AddWithValue("count", count);
            claim.Parameters.AddWithValue("model_id", model.Id);
            claim.Parameters.AddWithValue("run_started", runStarted);

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
        RegisteredModel model,
        IReadOnlyList<(long Id, float[] Embedding)> embeddings,
        IReadOnlyList<(long Id, EmbedFailure Failure)> failures,
        CancellationToken cancellationToken)
    {
        await using var commands = new NpgsqlBatch(batch.Connection, batch.Transaction);
        if (embeddings.Count > 0)
        {
            var ids = embeddings.Select(e => e.Id).ToArray();
            var write = new NpgsqlBatchCommand(WriteEmbeddingsSql);
            write.Parameters.AddWithValue("model_id", model.Id);
            write.Parameters.Add(new NpgsqlParameter<long[]>("ids", ids));
            write.Parameters.Add(new NpgsqlParameter<Vector[]>("embeddings", embeddings.Select(e => new Vector(e.Embedding)).ToArray()));
            commands.BatchCommands.Add(write);
            var clear = new NpgsqlBatchCommand(ClearFailuresSql);
            clear.Parameters.Add(new NpgsqlParameter<long[]>("ids", ids));
            commands.BatchCommands.Add(clear);
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

    /// <summary>Rows pending for <paramref name="model"/> that a run started now would work on.</summary>
    public async Task<long> CountWorkAsync(RegisteredModel model, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(CountPendingSql);
        command.Parameters.AddWithValue("model_id", model.Id);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
