using Anthropic.Models.Messages.Batches;
using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Describes a backlog through the Message Batches API (half the price of synchronous calls, answered within 24 h).
/// <see cref="SubmitAsync"/> sends the images <see cref="GalleryDescriber"/> would describe and records each batch in
/// <c>gallery.describe_batches</c>; <see cref="CollectAsync"/> stores the results of ended batches exactly as the
/// synchronous path does. An image waiting in a batch that has not been collected is not submitted again.
/// </summary>
/// <remarks>Used by <c>dbfirst describe --batch/--collect</c> and the collect-describe-batches job.</remarks>
internal sealed class GalleryBatchDescriber : IDisposable
{
    // The API accepts up to 100,000 requests or 256 MB per batch; base64 images dominate the size.
    private const int MaxRequestsPerBatch = 100_000;
    private const long MaxBase64CharsPerBatch = 200L * 1024 * 1024;
    private const string CustomIdPrefix = "image-";

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
    private readonly ClaudeOptions _options;
    private readonly ClaudeImagePreparer _preparer;
    private ClaudeClient? _claude;

    public GalleryBatchDescriber(NpgsqlDataSource dataSource, ClaudeOptions options, ClaudeImagePreparer? preparer = null)
    {
        _dataSource = dataSource;
        _options = options;
        _preparer = preparer ?? new ClaudeImagePreparer();
    }

    // Created on first use, so a collect with nothing pending needs no key and makes no call.
    private ClaudeClient Claude => _claude ??= new ClaudeClient(_options);

    /// <summary>Submits the images <paramref name="request"/> selects (less those pending in a batch) as Message Batches.</summary>
    /// <exception cref="GalleryException">Claude refused the batch; nothing was recorded.</exception>
    public async Task<DescribeBatchSubmission> SubmitAsync(DescribeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var candidates = await GalleryDescriber.SelectAsync(_dataSource, request, _options.Model, excludePending: true, cancellationToken);
        var wanted = candidates.Where(c => c.NeedsDescription).ToList();
        var existing = await GalleryDescriber.SelectAsync(_dataSource, request with { MaxImages = null }, _options.Model, excludePending: false, cancellationToken);
        var notFound = request.Ids.Except(existing.Select(c => c.Id)).ToList();
        var skipped = request.Ids.Count > 0 ? request.Ids.Distinct().Count() - notFound.Count - wanted.Count : candidates.Count - wanted.Count;

        var batchIds = new List<string>();
        var chunk = new List<(Request Request, long ImageId, byte[]? Sha256)>();
        long chunkChars = 0;
        int submitted = 0, failed = 0;
        foreach (var candidate in wanted)
        {
            PreparedImage image;
            try
            {
                image = await _preparer.PrepareAsync(candidate.File, cancellationToken);
            }
            catch (Exception exception) when (exception is ImagePreparationException or IOException or UnauthorizedAccessException)
            {
                await RecordFailureAsync(_dataSource, candidate.Id, $"cannot read the image: {exception.Message}", cancellationToken);
                failed++;
                continue;
            }

            var block = ClaudeClient.ImageBlock(image);
            var chars = image.Base64Length;
            if (chunk.Count > 0 && (chunk.Count >= MaxRequestsPerBatch || chunkChars + chars > MaxBase64CharsPerBatch))
            {
                batchIds.Add(await SubmitChunkAsync(chunk, cancellationToken));
                submitted += chunk.Count;
                chunk.Clear();
                chunkChars = 0;
            }

            chunk.Add((Claude.BatchRequest(CustomIdPrefix + candidate.Id, [block, ClaudeClient.TextBlock(ClaudePrompts.Describe)]), candidate.Id, candidate.ContentSha256));
            chunkChars += chars;
        }

        if (chunk.Count > 0)
        {
            batchIds.Add(await SubmitChunkAsync(chunk, cancellationToken));
            submitted += chunk.Count;
        }

        return new DescribeBatchSubmission(batchIds, submitted, Math.Max(0, skipped), failed, notFound);
    }

    /// <summary>
    /// Checks every batch not collected yet; stores the results of those that ended (one transaction per batch, so a
    /// crash stores a batch completely or not at all) and leaves the others pending.
    /// </summary>
    /// <exception cref="GalleryException">Claude could not be asked about a batch.</exception>
    public async Task<DescribeBatchCollection> CollectAsync(CancellationToken cancellationToken = default)
    {
        var pendingBatches = new List<(string Id, string Model)>();
        await using (var command = _dataSource.CreateCommand(PendingSql))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                pendingBatches.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var collected = new List<string>();
        var stillPending = new List<(string, string)>();
        int described = 0, failedCount = 0, dropped = 0;
        long input = 0, output = 0;
        foreach (var (batchId, model) in pendingBatches)
        {
            var batch = await CallAsync(() => Claude.RetrieveBatchAsync(batchId, cancellationToken));
            var status = batch.ProcessingStatus.Raw();
            if (status != "ended")
            {
                await using var update = _dataSource.CreateCommand(StatusSql);
                update.Parameters.AddWithValue("batch_id", batchId);
                update.Parameters.AddWithValue("status", status == "canceling" ? "canceling" : "in_progress");
                update.Parameters.AddWithValue("ended_at", DBNull.Value);
                await update.ExecuteNonQueryAsync(cancellationToken);
                stillPending.Add((batchId, status));
                continue;
            }

            var results = await CallAsync(() => Claude.BatchResultsAsync(batchId, cancellationToken));
            var stored = await StoreAsync(batchId, model, batch.EndedAt, results, cancellationToken);
            described += stored.Described;
            failedCount += stored.Failed;
            dropped += stored.Dropped;
            input += stored.Input;
            output += stored.Output;
            collected.Add(batchId);
        }

        return new DescribeBatchCollection(collected, stillPending, described, failedCount, input, output, dropped);
    }

    public void Dispose() => _claude?.Dispose();

    private async Task<(int Described, int Failed, int Dropped, long Input, long Output)> StoreAsync(
        string batchId, string model, DateTimeOffset? endedAt, List<MessageBatchIndividualResponse> results, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var items = new Dictionary<string, (long ImageId, byte[]? Sha256)>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(ItemsSql, connection, transaction))
        {
            command.Parameters.AddWithValue("batch_id", batchId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                items[reader.GetString(0)] = (reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2));
            }
        }

        int described = 0, failed = 0, dropped = 0;
        long input = 0, output = 0;
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            // Only ids this batch was sent with are trusted; anything else in the results is ignored.
            if (!items.TryGetValue(result.CustomID, out var item) || !answered.Add(result.CustomID))
            {
                continue;
            }

            var (reply, error) = Read(result.Result);
            if (reply is null)
            {
                await using var fail = new NpgsqlCommand(GalleryDescriber.FailureSql, connection, transaction);
                fail.Parameters.AddWithValue("id", item.ImageId);
                fail.Parameters.AddWithValue("error", _options.Redact(error ?? "no result"));
                await fail.ExecuteNonQueryAsync(cancellationToken);
                failed++;
                continue;
            }

            // Stored only if the image still has the content it was sent with; otherwise it stays pending.
            await using var success = new NpgsqlCommand(GalleryDescriber.SuccessSql, connection, transaction);
            GalleryDescriber.AddSuccessParameters(success, item.ImageId, item.Sha256, reply, model);
            if (await success.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                dropped++;
            }
            else
            {
                described++;
            }

            input += reply.InputTokens;
            output += reply.OutputTokens;
        }

        foreach (var missing in items.Where(item => !answered.Contains(item.Key)))
        {
            await using var fail = new NpgsqlCommand(GalleryDescriber.FailureSql, connection, transaction);
            fail.Parameters.AddWithValue("id", missing.Value.ImageId);
            fail.Parameters.AddWithValue("error", $"batch {batchId} returned no result for this image");
            await fail.ExecuteNonQueryAsync(cancellationToken);
            failed++;
        }

        await using (var update = new NpgsqlCommand(StatusSql, connection, transaction))
        {
            update.Parameters.AddWithValue("batch_id", batchId);
            update.Parameters.AddWithValue("status", "collected");
            update.Parameters.AddWithValue("ended_at", endedAt ?? DateTimeOffset.UtcNow);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (described, failed, dropped, input, output);
    }

    private static (ClaudeReply? Reply, string? Error) Read(MessageBatchResult result)
    {
        if (result.TryPickSucceeded(out var succeeded))
        {
            var reply = ClaudeClient.TryReadReply(succeeded.Message, out var error);
            return (reply, error);
        }

        if (result.TryPickErrored(out var errored))
        {
            return (null, $"the batch request errored: {ErrorText(errored)}");
        }

        if (result.TryPickExpired(out _))
        {
            return (null, "the batch expired before this request was processed (24 h); submit it again");
        }

        return result.TryPickCanceled(out _)
            ? (null, "the batch was canceled before this request was processed")
            : (null, "the batch result had an unknown type");
    }

    private static string ErrorText(MessageBatchErroredResult errored)
    {
        try
        {
            var text = errored.Error.Error.ToString();
            return text.Length > 300 ? text[..300] + "…" : text;
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.Text.Json.JsonException or Anthropic.Exceptions.AnthropicInvalidDataException)
        {
            return "no detail";
        }
    }

    private async Task<string> SubmitChunkAsync(List<(Request Request, long ImageId, byte[]? Sha256)> chunk, CancellationToken cancellationToken)
    {
        var batch = await CallAsync(() => Claude.CreateBatchAsync([.. chunk.Select(c => c.Request)], cancellationToken));
        // The batch exists and is billed from here on: record it even if the caller is cancelling now.
        await using var connection = await _dataSource.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await using (var insert = new NpgsqlCommand(InsertBatchSql, connection, transaction))
        {
            insert.Parameters.AddWithValue("batch_id", batch.ID);
            insert.Parameters.AddWithValue("model", _options.Model);
            insert.Parameters.AddWithValue("status", batch.ProcessingStatus.Raw() == "ended" ? "ended" : "in_progress");
            insert.Parameters.AddWithValue("request_count", chunk.Count);
            await insert.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await using (var items = new NpgsqlCommand(InsertItemsSql, connection, transaction))
        {
            items.Parameters.AddWithValue("batch_id", batch.ID);
            items.Parameters.AddWithValue("custom_ids", chunk.Select(c => c.Request.CustomID).ToArray());
            items.Parameters.AddWithValue("image_ids", chunk.Select(c => c.ImageId).ToArray());
            items.Parameters.Add(new NpgsqlParameter<byte[]?[]>("sent_sha256", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = chunk.Select(c => c.Sha256).ToArray() });
            await items.ExecuteNonQueryAsync(CancellationToken.None);
        }

        await transaction.CommitAsync(CancellationToken.None);
        return batch.ID;
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (ClaudeException exception)
        {
            throw new GalleryException($"describe batch: {exception.Message}");
        }
    }

    private async Task RecordFailureAsync(NpgsqlDataSource dataSource, long id, string error, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(GalleryDescriber.FailureSql);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("error", _options.Redact(error));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
