using DbFirst.Embedding;
using Npgsql;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// <c>dbfirst status</c>'s counts for the operator view, read at most once per <see cref="MaxAge"/>: the counts
/// scan the table, so reloading the page must not repeat that per request.
/// </summary>
internal sealed class CachedGalleryStatus
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(15);

    private readonly GalleryStatusReader _reader;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (GalleryStatus Status, DateTimeOffset ReadAt)? _last;

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
            _last = (status, DateTimeOffset.UtcNow);
            return _last.Value;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
