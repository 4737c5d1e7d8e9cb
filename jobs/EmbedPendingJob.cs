using DbFirst.Embedding;
using Hangfire;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>embed-pending</c>: embeds every row still without an embedding. Safe to run twice or on many
/// servers at once, because the pipeline claims rows with <c>FOR NO KEY UPDATE SKIP LOCKED</c>; no
/// <c>DisableConcurrentExecution</c> is needed or used.
/// </summary>
internal sealed class EmbedPendingJob
{
    /// <summary>Hangfire's id for the recurring job.</summary>
    public const string Id = "embed-pending";

    private readonly EmbeddingPipeline _pipeline;

    public EmbedPendingJob(EmbeddingPipeline pipeline) => _pipeline = pipeline;

    /// <summary>
    /// Embeds up to <paramref name="limit"/> rows (all when null). Hangfire cancels <paramref name="cancellationToken"/>
    /// when the server shuts down; the pipeline then commits the batch in hand and returns.
    /// </summary>
    /// <remarks>
    /// Two retries with Hangfire's back-off: a failure here is the database or the model, not one file (those are
    /// recorded per row), and the next scheduled run retries anyway.
    /// </remarks>
    [AutomaticRetry(Attempts = 2)]
    public async Task<string> RunAsync(int? limit, CancellationToken cancellationToken)
    {
        var result = await _pipeline.RunAsync(new EmbeddingRequest(limit), progress: null, cancellationToken);
        return $"{result.Embedded} embedded, {result.FailedPermanently + result.FailedTransiently} failed, {result.Elapsed.TotalSeconds:F1} s with {result.Model}";
    }
}
