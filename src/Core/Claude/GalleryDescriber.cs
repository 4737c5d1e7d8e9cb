using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Describes gallery images with Claude and stores the result in <c>gallery.image_gallery</c>. An image described by
/// the configured model is never sent again unless forced or requested; a failure records <c>describe_error</c> and
/// keeps the previous description; nothing but a non-empty text reply ever becomes a description, and only while the
/// image's <c>content_sha256</c> is still the one it had when it was sent.
/// </summary>
/// <remarks>Used by <c>dbfirst describe</c>, the describe-pending job and <c>dbfirst bench claude</c>.</remarks>
internal sealed class GalleryDescriber
{
    private readonly DescribeStore _store;
    private readonly ClaudeClient _claude;
    private readonly ClaudeImagePreparer _preparer;

    public GalleryDescriber(NpgsqlDataSource dataSource, ClaudeClient claude, ClaudeImagePreparer? preparer = null)
    {
        _store = new DescribeStore(dataSource);
        _claude = claude;
        _preparer = preparer ?? new ClaudeImagePreparer();
    }

    /// <summary>Describes the images <paramref name="request"/> selects, <see cref="ClaudeOptions.Concurrency"/> at a time.</summary>
    /// <param name="request">Which images, and the caps.</param>
    /// <param name="onOutcome">Called (one call at a time) as each image finishes.</param>
    /// <param name="cancellationToken">Stops the run; images finished so far stay stored.</param>
    /// <exception cref="GalleryException">Claude rejected the key or the configuration; the run stopped at once.</exception>
    public async Task<DescribeSummary> DescribeAsync(DescribeRequest request, Action<DescribeOutcome>? onOutcome = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        // Images waiting in a submitted batch are already paid for; only ids named outright or --force send them again.
        var excludePending = !request.Force && request.Ids.Count == 0;
        var candidates = await _store.SelectAsync(request, _claude.Options.Model, excludePending, cancellationToken);
        var notFound = request.Ids.Except(candidates.Select(c => c.Id)).ToList();
        var outcomes = new List<DescribeOutcome>();
        var gate = new Lock();
        var callsBefore = _claude.Throttle.Requests;
        long tokensSpent = 0;
        string? stoppedBy = null;
        ClaudeException? fatal = null;

        void Report(DescribeOutcome outcome)
        {
            lock (gate)
            {
                outcomes.Add(outcome);
                onOutcome?.Invoke(outcome);
            }
        }

        foreach (var skipped in candidates.Where(c => !c.NeedsDescription))
        {
            Report(new DescribeOutcome(skipped.Id, skipped.Path, DescribeOutcome.Skipped, Error: "already described by " + _claude.Options.Model + " (use --force)"));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _claude.Options.Concurrency, CancellationToken = stop.Token };
        try
        {
            await Parallel.ForEachAsync(candidates.Where(c => c.NeedsDescription), parallel, async (candidate, token) =>
            {
                if (request.MaxTokens is { } cap && Interlocked.Read(ref tokensSpent) >= cap)
                {
                    stoppedBy = $"token cap of {cap} reached";
                    return;
                }

                try
                {
                    var outcome = await DescribeOneAsync(candidate, token);
                    Interlocked.Add(ref tokensSpent, outcome.InputTokens + outcome.OutputTokens);
                    Report(outcome);
                }
                catch (ClaudeException exception) when (exception.StopsTheRun)
                {
                    fatal ??= exception;
                    await stop.CancelAsync();
                }
            });
        }
        catch (OperationCanceledException) when (fatal is not null && !cancellationToken.IsCancellationRequested)
        {
            // Stopped on purpose below.
        }

        if (fatal is not null)
        {
            throw new GalleryException($"describe stopped: {fatal.Message}");
        }

        return new DescribeSummary(outcomes, _claude.Throttle.Requests - callsBefore, stoppedBy, notFound);
    }

    private async Task<DescribeOutcome> DescribeOneAsync(DescribeCandidate candidate, CancellationToken cancellationToken)
    {
        PreparedImage image;
        try
        {
            image = await _preparer.PrepareAsync(candidate.File, cancellationToken);
        }
        catch (Exception exception) when (exception is ImagePreparationException or IOException or UnauthorizedAccessException)
        {
            return await FailAsync(candidate, $"cannot read the image: {exception.Message}", 0, cancellationToken);
        }

        ClaudeReply reply;
        try
        {
            reply = await _claude.SendAsync([ClaudeClient.ImageBlock(image), ClaudeClient.TextBlock(ClaudePrompts.Describe)], cancellationToken);
        }
        catch (ClaudeException exception) when (!exception.StopsTheRun)
        {
            return await FailAsync(candidate, exception.Message, exception.Attempts, cancellationToken);
        }

        if (!await _store.StoreDescriptionAsync(candidate.Id, candidate.ContentSha256, reply, _claude.Options.Model, cancellationToken))
        {
            return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Dropped, null, ChangedWhileDescribing, reply.InputTokens, reply.OutputTokens, reply.Attempts);
        }

        return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Described, reply.Text, null, reply.InputTokens, reply.OutputTokens, reply.Attempts);
    }

    /// <summary>The outcome's error when Claude answered but the image had changed (or gone) by then.</summary>
    internal const string ChangedWhileDescribing = "the image changed while it was being described; the description was dropped and the image stays pending";

    private async Task<DescribeOutcome> FailAsync(DescribeCandidate candidate, string error, int calls, CancellationToken cancellationToken)
    {
        var stored = _claude.Options.Redact(error);
        // The row is updated even when the run is being cancelled, so the error is not lost with it.
        await _store.StoreFailureAsync(candidate.Id, stored, CancellationToken.None);
        cancellationToken.ThrowIfCancellationRequested();
        return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Failed, null, stored, 0, 0, calls);
    }
}
