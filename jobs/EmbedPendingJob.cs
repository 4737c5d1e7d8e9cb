using DbFirst.Embedding;
using Hangfire;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>embed-pending</c>: embeds every row still pending for the registry's active model, then backfills
/// the staged model (if any), each model loaded once per process from its registered folder. Safe to run twice or on many
/// servers at once, because the pipeline claims rows with <c>FOR NO KEY UPDATE SKIP LOCKED</c>; no
/// <c>DisableConcurrentExecution</c> is needed or used.
/// </summary>
internal sealed class EmbedPendingJob
{
    /// <summary>Hangfire's id for the recurring job.</summary>
    public const string Id = "embed-pending";

    private readonly RegistryEmbedding _embedding;

    public EmbedPendingJob(RegistryEmbedding embedding) => _embedding = embedding;

    /// <summary>
    /// Embeds up to <paramref name="limit"/> rows per model (all when null). A staged model whose files cannot be
    /// loaded here is named in the job's result and log; the active model's rows are embedded all the same. Hangfire cancels <paramref name="cancellationToken"/>
    /// when the server shuts down; the pipeline then commits the batch in hand and returns.
    /// </summary>
    /// <remarks>
    /// Two retries with Hangfire's back-off: a failure here is the database or the model, not one file (those are
    /// recorded per row), and the next scheduled run retries anyway.
    /// </remarks>
    [AutomaticRetry(Attempts = 2)]
    public async Task<string> RunAsync(int? limit, CancellationToken cancellationToken)
    {
        var result = await _embedding.RunAsync(new EmbeddingRequest(limit), run: null, cancellationToken);
        var lines = new List<string> { Describe(result.Active) };
        if (result.Staged is { } staged)
        {
            lines.Add($"staged: {Describe(staged)}");
        }

        lines.AddRange(result.Problems);
        return string.Join("; ", lines);
    }

    private static string Describe(EmbeddingResult result) =>
        $"{result.Embedded} embedded, {result.FailedPermanently + result.FailedTransiently} failed, {result.Elapsed.TotalSeconds:F1} s with {result.Model}";
}
