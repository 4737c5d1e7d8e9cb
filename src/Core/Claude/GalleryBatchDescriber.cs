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

    private readonly DescribeStore _store;
    private readonly ClaudeOptions _options;
    private readonly ClaudeImagePreparer _preparer;
    private ClaudeClient? _claude;

    public GalleryBatchDescriber(NpgsqlDataSource dataSource, ClaudeOptions options, ClaudeImagePreparer? preparer = null)
    {
        _store = new DescribeStore(dataSource);
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
        var candidates = await _store.SelectAsync(request, _options.Model, excludePending: true, cancellationToken);
        var wanted = candidates.Where(c => c.NeedsDescription).ToList();
        var existing = await _store.SelectAsync(request with { MaxImages = null }, _options.Model, excludePending: false, cancellationToken);
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
                await _store.StoreFailureAsync(candidate.Id, _options.Redact($"cannot read the image: {exception.Message}"), cancellationToken);
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
        var pendingBatches = await _store.PendingBatchesAsync(cancellationToken);

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
                await _store.MarkBatchAsync(batchId, status == "canceling" ? "canceling" : "in_progress", cancellationToken);
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
        await using var storage = await _store.BeginCollectingAsync(batchId, cancellationToken);
        int described = 0, failed = 0, dropped = 0;
        long input = 0, output = 0;
        var answered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            // Only ids this batch was sent with are trusted; anything else in the results is ignored.
            if (!storage.Items.TryGetValue(result.CustomID, out var item) || !answered.Add(result.CustomID))
            {
                continue;
            }

            var (reply, error) = Read(result.Result);
            if (reply is null)
            {
                await storage.StoreFailureAsync(item, _options.Redact(error ?? "no result"), cancellationToken);
                failed++;
                continue;
            }

            // Stored only if the image still has the content it was sent with; otherwise it stays pending.
            if (await storage.StoreDescriptionAsync(item, reply, model, cancellationToken))
            {
                described++;
            }
            else
            {
                dropped++;
            }

            input += reply.InputTokens;
            output += reply.OutputTokens;
        }

        foreach (var missing in storage.Items.Values.Where(item => !answered.Contains(item.CustomId)))
        {
            await storage.StoreFailureAsync(missing, $"batch {batchId} returned no result for this image", cancellationToken);
            failed++;
        }

        await storage.CompleteAsync(endedAt ?? DateTimeOffset.UtcNow, cancellationToken);
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
        // The batch exists and is billed from here on: the store records it even if the caller is cancelling now.
        await _store.RecordBatchAsync(
            batch.ID, _options.Model, batch.ProcessingStatus.Raw() == "ended" ? "ended" : "in_progress",
            [.. chunk.Select(c => new DescribeBatchItem(c.Request.CustomID, c.ImageId, c.Sha256))]);
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
}
