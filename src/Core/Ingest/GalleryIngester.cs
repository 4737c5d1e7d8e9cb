using System.Threading.Channels;
using Npgsql;

namespace DbFirst.Ingest;

/// <summary>
/// Registers the images under some folders in <c>gallery.image_gallery</c>: a streaming walk feeds a few
/// inspecting threads through a bounded channel, and one writer commits a chunk at a time, so memory stays flat
/// whatever the gallery's size. Safe to re-run: unchanged files write nothing.
/// </summary>
public sealed class GalleryIngester
{
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Creates an ingester writing through <paramref name="dataSource"/>.</summary>
    public GalleryIngester(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
    }

    /// <summary>Walks <see cref="IngestOptions.Roots"/> and registers every image found; see <see cref="IngestReport"/>.</summary>
    /// <exception cref="GalleryException">A root does not exist.</exception>
    public async Task<IngestReport> IngestAsync(IngestOptions options, IProgress<IngestProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ChunkSize, 1);
        var roots = IngestRoots.Normalise(options.Roots);
        await using var store = await IngestStore.OpenAsync(_dataSource, cancellationToken);

        var parallelism = Math.Max(1, options.Parallelism ?? Environment.ProcessorCount);
        var inspected = Channel.CreateBounded<ScannedEntry>(new BoundedChannelOptions(Math.Max(64, parallelism * 16))
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = InspectAsync(new GalleryWalker(roots, options.FollowSymlinks), parallelism, inspected.Writer, stop.Token);

        var tally = new Tally();
        var unlooked = new List<string>();
        var chunk = new List<ScannedEntry>(options.ChunkSize);
        try
        {
            await foreach (var entry in inspected.Reader.ReadAllAsync(cancellationToken))
            {
                tally.Count(entry);
                if (entry.IsDirectory)
                {
                    unlooked.Add(entry.Path);
                }
                else
                {
                    chunk.Add(entry);
                }

                if (chunk.Count == options.ChunkSize)
                {
                    tally.Written(await store.WriteChunkAsync(chunk, cancellationToken));
                    chunk.Clear();
                }

                if (tally.Scanned % 64 == 0 || entry.Outcome == ScanOutcome.Failed)
                {
                    progress?.Report(tally.Progress);
                }
            }

            if (chunk.Count > 0)
            {
                tally.Written(await store.WriteChunkAsync(chunk, cancellationToken));
            }
        }
        finally
        {
            // On a database error the inspectors must not sit forever on a full channel.
            await stop.CancelAsync();
            await producer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await producer;
        progress?.Report(tally.Progress);
        var (missing, pruned) = await store.FindMissingAsync(roots, unlooked, options, cancellationToken);
        var duplicates = await store.FindDuplicatesAsync(cancellationToken);
        return tally.ToReport(missing, pruned, duplicates);
    }

    private static Task InspectAsync(GalleryWalker walker, int parallelism, ChannelWriter<ScannedEntry> writer, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                try
                {
                    var parallel = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
                    await Parallel.ForEachAsync(walker.Walk(cancellationToken), parallel, (item, token) =>
                        writer.WriteAsync(item.Settled ?? Inspect(item), token));
                    writer.Complete();
                }
                catch (Exception exception)
                {
                    writer.Complete(exception);
                    throw;
                }
            },
            cancellationToken);

    private static ScannedEntry Inspect(WalkItem item)
    {
        var entry = ImageFileInspector.Inspect(item.Path, item.Length);
        return item.ViaSymlink ? entry with { ViaSymlink = true } : entry;
    }

    private sealed class Tally
    {
        private readonly List<IngestFailure> _failed = [];
        private long _images;
        private long _added;
        private long _updated;
        private long _unsupported;
        private long _symlinksSkipped;
        private long _bytes;
        private long _failedFiles;

        public long Scanned { get; private set; }

        public IngestProgress Progress => new(Scanned, _images, _failed.Count, _bytes);

        public void Count(ScannedEntry entry)
        {
            switch (entry.Outcome)
            {
                case ScanOutcome.Image:
                    Scanned++;
                    _images++;
                    _bytes += entry.Facts!.ByteSize;
                    break;
                case ScanOutcome.Unsupported:
                    Scanned++;
                    _unsupported++;
                    break;
                case ScanOutcome.Failed:
                    _failed.Add(new IngestFailure(entry.Path, entry.Error ?? "unknown error"));
                    if (!entry.IsDirectory)
                    {
                        Scanned++;
                        _failedFiles++;
                    }

                    break;
                case ScanOutcome.SymlinkSkipped:
                    _symlinksSkipped++;
                    break;
            }
        }

        public void Written((long Added, long Updated) counts)
        {
            _added += counts.Added;
            _updated += counts.Updated;
        }

        public IngestReport ToReport(IReadOnlyList<string> missing, long pruned, IReadOnlyList<IReadOnlyList<string>> duplicates) =>
            new(Scanned, _added, _updated, _images - _added - _updated, _unsupported, _failed, missing, pruned, duplicates, _symlinksSkipped);
    }
}
