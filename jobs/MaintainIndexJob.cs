using DbFirst.Indexing;
using Hangfire;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>maintain-index</c>: keeps the vector index DbFirst manages fit for its data. It rebuilds
/// that index when it is missing or invalid (left by a failed concurrent build) with its recorded method and
/// parameters, drops a spare left by an interrupted rebuild, rebuilds an IVFFlat
/// index (concurrently, then swapped in) once the row count drifted more than 20% since its build, and
/// reindexes an HNSW index concurrently once more than 20% of its rows were updated or deleted since its
/// build, or it grew past 1.5 times its built size. Searches keep working throughout; other vector indexes on the
/// table (a DBA's) are never touched.
/// </summary>
internal sealed class MaintainIndexJob
{
    /// <summary>Hangfire's id for the recurring job.</summary>
    public const string Id = "maintain-index";

    private readonly VectorIndexManager _manager;

    public MaintainIndexJob(VectorIndexManager manager) => _manager = manager;

    /// <summary>Checks the index and rebuilds or reindexes it when needed; returns what it did.</summary>
    /// <remarks>
    /// Safe to run twice: a second run finds the fresh build and does nothing, and a run that overlaps a
    /// rebuild (from here or from <c>dbfirst index rebuild</c>) fails fast on the rebuild's advisory lock.
    /// One retry: a failed build leaves only an invalid spare index, which the next build removes.
    /// </remarks>
    [AutomaticRetry(Attempts = 1)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public Task<string> RunAsync(CancellationToken cancellationToken) => _manager.MaintainAsync(log: null, cancellationToken);
}
