using DbFirst.Ingest;
using DbFirst.Runner.Commands;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// After an ingest that added or changed rows, enqueues <c>embed-pending</c> so a running <c>serve</c> or
/// <c>worker</c> embeds the new photos now rather than at the next scheduled run.
/// </summary>
internal sealed class EmbeddingOnIngest : IIngestCompletedHandler
{
    public async Task<string?> OnIngestCompletedAsync(IngestReport report, string connectionString, CancellationToken cancellationToken = default)
    {
        if (!report.ChangedRows)
        {
            return null;
        }

        try
        {
            var jobId = await EmbeddingJobQueue.EnqueueAsync(connectionString, cancellationToken);
            return $"dbfirst: enqueued embed-pending (job {jobId}); a running 'dbfirst serve' or 'dbfirst worker' picks it up, or run 'dbfirst embed'";
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The rows are committed either way; the recurring job or 'dbfirst embed' will still embed them.
            return $"dbfirst: warning: could not enqueue embed-pending ({exception.Message}); run 'dbfirst embed'";
        }
    }
}
