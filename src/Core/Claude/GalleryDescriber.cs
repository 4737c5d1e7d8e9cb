using DbFirst.Files;
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
    internal const string SuccessSql = """
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
    internal const string FailureSql = """
        UPDATE gallery.image_gallery
           SET describe_error    = @error,
               describe_attempts = describe_attempts + 1
         WHERE id = @id
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClaudeClient _claude;
    private readonly ClaudeImagePreparer _preparer;

    public GalleryDescriber(NpgsqlDataSource dataSource, ClaudeClient claude, ClaudeImagePreparer? preparer = null)
    {
        _dataSource = dataSource;
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
        var candidates = await SelectAsync(_dataSource, request, _claude.Options.Model, excludePending, cancellationToken);
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

    private async Task<DescribeOutcome> DescribeOneAsync(Candidate candidate, CancellationToken cancellationToken)
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

        int stored;
        await using (var command = _dataSource.CreateCommand(SuccessSql))
        {
            AddSuccessParameters(command, candidate.Id, candidate.ContentSha256, reply, _claude.Options.Model);
            stored = await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (stored == 0)
        {
            return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Dropped, null, ChangedWhileDescribing, reply.InputTokens, reply.OutputTokens, reply.Attempts);
        }

        return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Described, reply.Text, null, reply.InputTokens, reply.OutputTokens, reply.Attempts);
    }

    /// <summary>The outcome's error when Claude answered but the image had changed (or gone) by then.</summary>
    internal const string ChangedWhileDescribing = "the image changed while it was being described; the description was dropped and the image stays pending";

    /// <summary>Fills <see cref="SuccessSql"/>'s parameters; <paramref name="sentSha256"/> is the content hash of the image as sent.</summary>
    internal static void AddSuccessParameters(NpgsqlCommand command, long id, byte[]? sentSha256, ClaudeReply reply, string model)
    {
        command.Parameters.AddWithValue("id", id);
        command.Parameters.Add(new NpgsqlParameter<byte[]?>("sent_sha256", NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = sentSha256 });
        command.Parameters.AddWithValue("description", reply.Text);
        command.Parameters.AddWithValue("model", model);
        command.Parameters.AddWithValue("input_tokens", reply.InputTokens);
        command.Parameters.AddWithValue("output_tokens", reply.OutputTokens);
    }

    private async Task<DescribeOutcome> FailAsync(Candidate candidate, string error, int calls, CancellationToken cancellationToken)
    {
        var stored = _claude.Options.Redact(error);
        // The row is updated even when the run is being cancelled, so the error is not lost with it.
        await using var command = _dataSource.CreateCommand(FailureSql);
        command.Parameters.AddWithValue("id", candidate.Id);
        command.Parameters.AddWithValue("error", stored);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
        cancellationToken.ThrowIfCancellationRequested();
        return new DescribeOutcome(candidate.Id, candidate.Path, DescribeOutcome.Failed, null, stored, 0, 0, calls);
    }

    /// <summary>
    /// The images <paramref name="request"/> selects, with whether each needs a description by <paramref name="model"/>;
    /// with <paramref name="excludePending"/>, less the images waiting in a batch that has not been collected yet.
    /// </summary>
    internal static async Task<List<Candidate>> SelectAsync(NpgsqlDataSource dataSource, DescribeRequest request, string model, bool excludePending, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SelectSql);
        command.Parameters.AddWithValue("all", request.All);
        command.Parameters.AddWithValue("ids", request.Ids.Distinct().ToArray());
        command.Parameters.AddWithValue("force", request.Force);
        command.Parameters.AddWithValue("model", model);
        command.Parameters.AddWithValue("exclude_pending", excludePending);
        command.Parameters.Add(new NpgsqlParameter<int?>("max_failed", NpgsqlTypes.NpgsqlDbType.Integer) { TypedValue = request.MaxFailedAttempts });
        command.Parameters.AddWithValue("limit", (long?)request.MaxImages ?? long.MaxValue);
        var candidates = new List<Candidate>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            candidates.Add(new Candidate(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.GetBoolean(5)));
        }

        return candidates;
    }

    /// <summary>An image a describe run considers.</summary>
    /// <param name="Id">Its id.</param>
    /// <param name="Path">Its file.</param>
    /// <param name="ContentSha256">The image's content hash when it was selected: what is sent, and what a result is stored against.</param>
    /// <param name="NeedsDescription">False when it already has a description by the current model.</param>
    /// <param name="ByteSize">The file's length at ingest.</param>
    /// <param name="ViaSymlink">Ingest met the path as a symbolic link.</param>
    internal sealed record Candidate(long Id, string Path, byte[]? ContentSha256, bool NeedsDescription, long? ByteSize = null, bool ViaSymlink = false)
    {
        /// <summary>The file as ingest recorded it, so the bytes sent are those the stored hash stands for.</summary>
        public IngestedFile File => new(Path, ByteSize, ContentSha256, ViaSymlink);
    }
}
