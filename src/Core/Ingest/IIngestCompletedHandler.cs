namespace DbFirst.Ingest;

/// <summary>
/// What runs after an ingest has committed: the pipeline enqueues the embedding job here, so new photos become
/// searchable without waiting for the schedule.
/// </summary>
public interface IIngestCompletedHandler
{
    /// <summary>Called once per successful ingest, after every row is committed.</summary>
    /// <returns>A line for the person at the terminal, or <see langword="null"/>; <c>--json</c> runs print none.</returns>
    Task<string?> OnIngestCompletedAsync(IngestReport report, string connectionString, CancellationToken cancellationToken = default);
}
