using DbFirst.Embedding;
using DbFirst.Models;
using Npgsql;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// <c>dbfirst status</c>'s counts for the operator view, read at most once per <see cref="MaxAge"/>: the counts
/// scan the table, so reloading the page must not repeat that per request. Each reading also feeds the staged model's
/// <see cref="BackfillProgress"/> (rate and time left between readings), shown on the page and the dashboard.
/// </summary>
internal sealed class CachedGalleryStatus
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(15);

    private readonly GalleryStatusReader _reader;
    private readonly BackfillProgressTracker _tracker = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (GalleryStatus Status, DateTimeOffset ReadAt)? _last;
    private BackfillProgress? _backfill;

    public CachedGalleryStatus(NpgsqlDataSource dataSource) => _reader = new GalleryStatusReader(dataSource);

    /// <summary>The status and when it was read.</summary>
    public async Task<(GalleryStatus Status, DateTimeOffset ReadAt)> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_last is { } fresh && DateTimeOffset.UtcNow - fresh.ReadAt < MaxAge)
        {
            return fresh;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_last is { } other && DateTimeOffset.UtcNow - other.ReadAt < MaxAge)
            {
                return other;
            }

            var status = await _reader.ReadAsync(cancellationToken);
            var readAt = DateTimeOffset.UtcNow;
            _backfill = _tracker.Observe(status.Coverage, readAt);
            _last = (status, readAt);
            return _last.Value;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>The staged model's backfill as of the status <see cref="ReadAsync"/> returns; null when no model is staged.</summary>
    public async Task<BackfillProgress?> ReadBackfillAsync(CancellationToken cancellationToken = default)
    {
        await ReadAsync(cancellationToken);
        return _backfill;
    }
}
