using DbFirst.Indexing;
using Hangfire;
using Npgsql;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>fill-neighbours</c>: looks up the stored neighbours of images queued by a bulk load or by
/// migration 80, at most <see cref="MaxImagesPerRun"/> per run, so <c>gallery.near_duplicates</c> covers them.
/// </summary>
internal sealed class FillNeighboursJob
{
    /// <summary>Hangfire's id for the recurring job.</summary>
    public const string Id = "fill-neighbours";

    /// <summary>About a minute of index probes: a run never holds a worker for long.</summary>
    public const long MaxImagesPerRun = 20_000;

    private readonly NeighbourBackfill _backfill;

    public FillNeighboursJob(NpgsqlDataSource dataSource) => _backfill = new NeighbourBackfill(dataSource);

    /// <summary>Fills a bounded share of the queue; returns what it did.</summary>
    /// <remarks>
    /// Safe to run twice, even at once: each batch takes its images with SKIP LOCKED and a lookup only
    /// rewrites the same pairs. No retry: the next run takes over whatever is still queued.
    /// </remarks>
    [AutomaticRetry(Attempts = 0)]
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        var filled = await _backfill.FillAsync(MaxImagesPerRun, cancellationToken: cancellationToken);
        var left = await _backfill.PendingAsync(cancellationToken);
        return $"looked up the neighbours of {filled} image(s); {left} still queued";
    }
}
