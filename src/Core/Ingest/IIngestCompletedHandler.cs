namespace DbFirst.Ingest;

/// <summary>
/// What runs after an ingest has committed: the pipeline enqueues the embedding job here, so new photos become
/// searchable without waiting for the schedule.
/// </summary>
public interface IIngestCompletedHandler
{
    /// <summary>Called once per successful ingest, after every row is committed.</summary>
    Task OnIngestCompletedAsync(IngestReport report, string connectionString, CancellationToken cancellationToken = default);
}
