using DbFirst.Claude;
using Hangfire;
using Npgsql;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>collect-describe-batches</c>: stores the results of describe batches (<c>dbfirst describe --batch</c>)
/// that have ended. On by default: with no batch pending it reads one table and calls nobody, so it costs nothing.
/// Safe to run twice: each batch is stored in one transaction that also marks it collected.
/// </summary>
/// <remarks>
/// <c>Attempts = 0</c>: the next scheduled run is the retry; the results stay available at Anthropic for 29 days.
/// The job's only argument is the cancellation token, so the API key never reaches Hangfire's storage.
/// </remarks>
internal sealed class CollectDescribeBatchesJob
{
    /// <summary>The job's id in the recurring job catalogue and under <c>Jobs:</c> in configuration.</summary>
    public const string Id = "collect-describe-batches";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClaudeOptions _options;

    public CollectDescribeBatchesJob(NpgsqlDataSource dataSource, ClaudeOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>Collects every ended batch; leaves the others for a later run.</summary>
    /// <returns>A one-line summary Hangfire shows as the job's result.</returns>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        using var batches = new GalleryBatchDescriber(_dataSource, _options);
        var collection = await batches.CollectAsync(cancellationToken);
        return $"collected {collection.Collected.Count} batches: described {collection.Described}, failed {collection.Failed}, dropped {collection.Dropped} (image changed); " +
               $"{collection.InputTokens} input + {collection.OutputTokens} output tokens; {collection.Pending.Count} still processing";
    }
}
