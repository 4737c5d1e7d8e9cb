using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// The describe columns of <c>gallery.image_gallery</c> and the batch tables: which images a run selects, how a
/// description or a failure is stored, and how Message Batches are recorded and collected. The one home of that SQL,
/// for <see cref="GalleryDescriber"/> and <see cref="GalleryBatchDescriber"/> alike, so both store results the same way.
/// </summary>
internal sealed class DescribeStore
{
    private const string SelectSql = """
        SELECT id, path, content_sha256,
               (@force OR describe_requested_at IS NOT NULL OR description IS NULL
                OR description_model IS DISTINCT FROM @model) AS needs_description,
               byte_size, ingested_via_symlink
        FROM gallery.image_gallery
        WHERE (@all OR id = ANY(@ids) OR (cardinality(@ids) = 0 AND describe_requested_at IS NOT NULL))
          AND (@force OR describe_requested_at IS NOT NULL OR description IS NULL
               OR description_model IS DISTINCT FROM @model OR id = ANY(@ids))
          AND (@max_failed::int IS NULL OR describe_attempts < @max_failed OR id = ANY(@ids))
          AND (NOT @exclude_pending OR NOT EXISTS (
                 SELECT 1
                 FROM gallery.describe_batch_items AS item
                 JOIN gallery.describe_batches AS batch USING (batch_id)
                 WHERE item.image_id = image_gallery.id AND batch.status <> 'collected'))
        ORDER BY describe_requested_at NULLS LAST, id
        LIMIT @limit
        """;

    // Stored only while the row still holds the picture that was sent: a file re-ingested with new content meanwhile
    // has had its description cleared by ingest and stays pending, instead of getting the old picture's text.
    private const string SuccessSql = """
        UPDATE gallery.image_gallery
           SET description            = @description,
               description_model      = @model,
               described_at           = now(),
               describe_input_tokens  = coalesce(describe_input_tokens, 0) + @input_tokens,
               describe_output_tokens = coalesce(describe_output_tokens, 0) + @output_tokens,
               describe_error         = NULL,
               describe_attempts      = 0,
               describe_requested_at  = NULL
         WHERE id = @id AND content_sha256 IS NOT DISTINCT FROM @sent_sha256
        """;

    // The description, its model and time stay as they were: a failed run loses nothing.
    private const string FailureSql = """
        UPDATE gallery.image_gallery
           SET describe_error    = @error,
               describe_attempts = describe_attempts + 1
         WHERE id = @id
        """;

    private const string InsertBatchSql = """
        INSERT INTO gallery.describe_batches (batch_id, model, status, request_count)
        VALUES (@batch_id, @model, @status, @request_count)
        """;

    private const string InsertItemsSql = """
        INSERT INTO gallery.describe_batch_items (batch_id, custom_id, image_id, content_sha256)
        SELECT @batch_id, custom_id, image_id, content_sha256
        FROM unnest(@custom_ids, @image_ids, @sent_sha256) AS item(custom_id, image_id, content_sha256)
        """;

    private const string PendingSql = """
        SELECT batch_id, model FROM gallery.describe_batches WHERE status <> 'collected' ORDER BY submitted_at, batch_id
        """;

    private const string ItemsSql = """
        SELECT custom_id, image_id, content_sha256 FROM gallery.describe_batch_items WHERE batch_id = @batch_id
        """;

    private const string StatusSql = """
        UPDATE gallery.describe_batches SET status = @status, ended_at = coalesce(ended_at, @ended_at) WHERE batch_id = @batch_id
        """;

    private readonly NpgsqlDataSource _dataSource;

    public DescribeStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>
    /// The images <paramref name="request"/> selects, with whether each needs a description by <paramref name="model"/>;
    /// with <paramref name="excludePending"/>, less the images waiting in a batch that has not been collected yet.
    /// </summary>
    public async Task<List<DescribeCandidate>> SelectAsync(DescribeRequest request, string model, bool excludePending, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(SelectSql);
        command.Parameters.AddWithValue("all", request.All);
        command.Parameters.AddWithValue("ids", request.Ids.Distinct().ToArray());
        command.Parameters.AddWithValue("force", request.Force);
        command.Parameters.AddWithValue("model", model);
        command.Parameters.AddWithValue("exclude_pending", excludePending);
        command.Parameters.Add(new NpgsqlParameter<int?>("max_failed", NpgsqlTypes.NpgsqlDbType.Integer) { TypedValue = request.MaxFailedAttempts });
        command.Parameters.AddWithValue("limit", (long?)request.MaxImages ?? long.MaxValue);
        var candidates = new List<DescribeCandidate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            candidates.Add(new DescribeCandidate(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.GetBoolean(5)));
        }

        return candidates;
    }

    /// <summary>Stores <paramref name="reply"/> as image <paramref name="id"/>'s description, if it still has the content sent.</summary>
    /// <returns>False when the image changed (or went) meanwhile: nothing was stored and it stays pending.</returns>
    public async Task<bool> StoreDescriptionAsync(long id, byte[]? sentSha256, ClaudeReply reply, string model, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await StoreDescriptionAsync(connection, null, id, sentSha256, reply, model, cancellationToken);
    }

    /// <summary>Records a failed attempt at image <paramref name="id"/>; its description stays as it was.</summary>
    /// <param name="id">The image.</param>
    /// <param name="error">The reason, already redacted.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public async Task StoreFailureAsync(long id, string error, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await StoreFailureAsync(connection, null, id, error, cancellationToken);
    }

    /// <summary>Records a submitted batch and its items in one transaction.</summary>
    /// <remarks>The batch exists and is billed already: this runs to the end even while the caller is cancelling.</remarks>
    public async Task RecordBatchAsync(string batchId, string model, string status, IReadOnlyList<DescribeBatchItem> items)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await using (var insert = new NpgsqlCommand(InsertBatchSql, connection, transaction))
        {
            insert.Parameters.AddWithValue("batch_id", batchId);
            insert.Parameters.AddWithValue("model", model);
            insert.Parameters.AddWithValue("status", status);
            insert.Parameters.AddWithValue("request_count", items.Count);
            await insert.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await using (var insertItems = new NpgsqlCommand(InsertItemsSql, connection, transaction))
        {
            insertItems.Parameters.AddWithValue("batch_id", batchId);
            insertItems.Parameters.AddWithValue("custom_ids", items.Select(item => item.CustomId).ToArray());
            insertItems.Parameters.AddWithValue("image_ids", items.Select(item => item.ImageId).ToArray());
            insertItems.Parameters.Add(new NpgsqlParameter<byte[]?[]>("sent_sha256", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea)
            {
                TypedValue = items.Select(item => item.ContentSha256).ToArray(),
            });
            await insertItems.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>The batches not collected yet, oldest first, with the model each was sent to.</summary>
    public async Task<List<(string BatchId, string Model)>> PendingBatchesAsync(CancellationToken cancellationToken)
    {
        var batches = new List<(string, string)>();
        await using var command = _dataSource.CreateCommand(PendingSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            batches.Add((reader.GetString(0), reader.GetString(1)));
        }

        return batches;
    }

    /// <summary>Records that a batch has not ended yet (<c>in_progress</c> or <c>canceling</c>).</summary>
    public async Task MarkBatchAsync(string batchId, string status, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await SetBatchStatusAsync(connection, null, batchId, status, null, cancellationToken);
    }

    /// <summary>
    /// Opens the transaction that stores an ended batch's results: all of them and the batch's <c>collected</c> mark
    /// commit together (<see cref="DescribeBatchStorage.CompleteAsync"/>), or none do.
    /// </summary>
    public async Task<DescribeBatchStorage> BeginCollectingAsync(string batchId, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var items = new Dictionary<string, DescribeBatchItem>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand(ItemsSql, connection, transaction))
            {
                command.Parameters.AddWithValue("batch_id", batchId);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    items[reader.GetString(0)] = new DescribeBatchItem(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2));
                }
            }

            return new DescribeBatchStorage(batchId, connection, transaction, items);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    internal static async Task<bool> StoreDescriptionAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, byte[]? sentSha256, ClaudeReply reply, string model, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SuccessSql, connection, transaction);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.Add(new NpgsqlParameter<byte[]?>("sent_sha256", NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = sentSha256 });
        command.Parameters.AddWithValue("description", reply.Text);
        command.Parameters.AddWithValue("model", model);
        command.Parameters.AddWithValue("input_tokens", reply.InputTokens);
        command.Parameters.AddWithValue("output_tokens", reply.OutputTokens);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    internal static async Task StoreFailureAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long id, string error, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(FailureSql, connection, transaction);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("error", error);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task SetBatchStatusAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string batchId, string status, DateTimeOffset? endedAt, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(StatusSql, connection, transaction);
        command.Parameters.AddWithValue("batch_id", batchId);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("ended_at", endedAt is { } ended ? (object)ended : DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
