using DbFirst.Jobs;
using Hangfire;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Puts an <c>embed-pending</c> run on Hangfire's queue, for commands that add rows (ingest) and want them
/// searchable before the next scheduled run. Any <c>dbfirst serve</c> or <c>dbfirst worker</c> on the same database
/// picks it up; with none running it waits in the queue.
/// </summary>
internal static class EmbeddingJobQueue
{
    /// <summary>Enqueues one run over all pending rows; returns Hangfire's job id.</summary>
    /// <remarks>The job's only argument is the optional limit: nothing secret ever reaches the dashboard.</remarks>
    public static Task<string> EnqueueAsync(string connectionString, CancellationToken cancellationToken = default) =>
        Task.Run(() =>
        {
            var client = new BackgroundJobClient(HangfireStorageFactory.Create(connectionString));
            return client.Enqueue<EmbedPendingJob>(job => job.RunAsync(null, CancellationToken.None));
        }, cancellationToken);
}
