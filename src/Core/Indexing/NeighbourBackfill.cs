using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// Fills in the stored neighbours (migration 80) of images queued in <c>gallery.neighbour_pending</c>: those
/// loaded in bulk, present before the migration, or whose neighbour was deleted in a large statement.
/// Works in batches of <see cref="BatchSize"/> (one short transaction each), so it can stop between any two.
/// </summary>
public sealed class NeighbourBackfill
{
    /// <summary>Images looked up per call of <c>gallery.fill_neighbours</c>: about a second of index probes.</summary>
    public const int BatchSize = 500;

    private const string FillSql = "SELECT gallery.fill_neighbours($1)";
    private const string PendingSql = "SELECT count(*) FROM gallery.neighbour_pending";

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Creates a backfill over <paramref name="dataSource"/>.</summary>
    public NeighbourBackfill(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>How many images are queued for a neighbour lookup.</summary>
    public async Task<long> PendingAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PendingSql);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Looks up queued images batch by batch until the queue is empty or <paramref name="maxImages"/> were taken;
    /// <paramref name="progress"/> hears the running total after each batch. Returns how many were taken.
    /// </summary>
    public async Task<long> FillAsync(long maxImages = long.MaxValue, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImages, 1);
        long done = 0;
        while (done < maxImages)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var command = _dataSource.CreateCommand(FillSql);
            command.Parameters.Add(new NpgsqlParameter { Value = (int)Math.Min(BatchSize, maxImages - done) });
            var taken = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (taken == 0)
            {
                break;
            }

            done += taken;
            progress?.Report(done);
        }

        return done;
    }
}
