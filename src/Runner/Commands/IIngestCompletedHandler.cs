using DbFirst.Ingest;

namespace DbFirst.Runner.Commands;

/// <summary>
/// What runs after an ingest has committed: the pipeline enqueues the embedding job here, so new photos become
/// searchable without waiting for the schedule.
/// </summary>
/// <remarks>The runner's hook, beside the one command that calls it: ingest itself (Core) knows nothing of jobs.</remarks>
internal interface IIngestCompletedHandler
{
    /// <summary>Called once per successful ingest, after every row is committed.</summary>
    /// <returns>A line for the person at the terminal, or <see langword="null"/>; <c>--json</c> runs print none.</returns>
    Task<string?> OnIngestCompletedAsync(IngestReport report, string connectionString, CancellationToken cancellationToken = default);
}
