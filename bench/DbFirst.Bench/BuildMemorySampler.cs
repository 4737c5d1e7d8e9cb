using System.Globalization;
using Npgsql;

namespace DbFirst.Bench;

/// <summary>
/// Samples, while an index build runs, the memory of the PostgreSQL processes serving the scratch database (the
/// building backend and its parallel workers) from <c>/proc</c>, and keeps the peak.
/// </summary>
/// <remarks>
/// What a build takes is private memory (<c>RssAnon</c>: a serial HNSW build keeps its graph there) plus the dynamic
/// shared memory segments its processes map (<c>/dev/shm/PostgreSQL.*</c>: a parallel build keeps the graph there),
/// counted once however many processes map them, and only the pages touched (the blocks their tmpfs files hold).
/// Shared buffers are left out on purpose: they are the server's standing memory, not the build's.
/// Needs the server on this machine and permission to read its processes' <c>/proc</c> entries (root, or the
/// postgres user); otherwise <see cref="StopAsync"/> returns null and the report says so.
/// </remarks>
internal sealed class BuildMemorySampler : IAsyncDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(250);

    private readonly NpgsqlConnection _connection;
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;
    private long _peakBytes;
    private bool _readAny;

    private BuildMemorySampler(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        _connection = connection;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = Task.Run(() => LoopAsync(_stop.Token), CancellationToken.None);
    }

    /// <summary>Starts sampling the backends of <paramref name="dataSource"/>'s database (all but its own).</summary>
    public static async Task<BuildMemorySampler> StartAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return new BuildMemorySampler(connection, cancellationToken);
    }

    /// <summary>Stops sampling; the peak private plus dynamic shared memory in bytes, or null when /proc could not be read.</summary>
    public async Task<long?> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return _readAny ? _peakBytes : null;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
        await _connection.DisposeAsync();
    }

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", _connection);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var pids = new List<int>();
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        pids.Add(reader.GetInt32(0));
                    }
                }

                Sample(pids);
                await Task.Delay(s_interval, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Sample(List<int> pids)
    {
        long privateBytes = 0;
        var segments = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pid in pids)
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                    {
                        privateBytes += KiloBytes(line);
                    }
                }

                // The mapping list only (maps, not smaps, which walks every page of the 6 GB shared buffers each time
                // and cost 10% of a core); a segment's touched pages are its tmpfs file's allocated blocks.
                foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
                {
                    var at = line.IndexOf("/dev/shm/PostgreSQL.", StringComparison.Ordinal);
                    if (at >= 0 && line[at..] is var segment && !segments.ContainsKey(segment))
                    {
                        segments[segment] = DbFirst.Files.NativeFile.StatFollowing(segment)?.AllocatedBytes ?? 0;
                    }
                }

                _readAny = true;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The process ended between the query and the read, or is not ours to read: the peak is what could be read.
            }
        }

        _peakBytes = Math.Max(_peakBytes, privateBytes + segments.Values.Sum());
    }

    // "RssAnon:     123456 kB"
    private static long KiloBytes(string line)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kiB) ? kiB * 1024 : 0;
    }
}
