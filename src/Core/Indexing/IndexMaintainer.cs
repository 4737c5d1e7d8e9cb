using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// The recurring maintain-index job's logic: heal a missing or invalid managed index and a leftover spare, then
/// rebuild an IVFFlat index whose rows drifted or reindex a bloated HNSW one (see <see cref="VectorIndexManager.MaintainAsync"/>).
/// </summary>
internal sealed class IndexMaintainer
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly IndexBuilder _builder;
    private readonly IndexStatusReader _status;

    public IndexMaintainer(NpgsqlDataSource dataSource, IndexBuilder builder, IndexStatusReader status)
    {
        _dataSource = dataSource;
        _builder = builder;
        _status = status;
    }

    public async Task<string> MaintainAsync(IndexTarget target, TextWriter? log, CancellationToken cancellationToken)
    {
        var healed = await HealAsync(target, log, cancellationToken);
        if (healed is { Finished: true })
        {
            return healed.Value.Message;
        }

        var maintained = await MaintainValidAsync(target, log, cancellationToken);
        return healed is { Message: var spare } ? $"{spare}; {maintained}" : maintained;
    }

    private async Task<string> MaintainValidAsync(IndexTarget target, TextWriter? log, CancellationToken cancellationToken)
    {
        var status = await _status.ReadAsync(target, cancellationToken);
        if (status.IndexName != target.IndexName)
        {
            return "no embedded rows: nothing to index yet";
        }

        if (status.Parameters is IvfflatParameters)
        {
            if (status.Rows < VectorIndexManager.MinIvfflatRows)
            {
                return $"IVFFlat index left alone: {status.Rows} rows is too few to retrain it";
            }

            var baseline = status.LastBuild?.RowCount;
            var drift = baseline is > 0 ? Math.Abs(status.Rows - baseline.Value) / (double)baseline.Value : double.PositiveInfinity;
            if (drift <= VectorIndexManager.DriftThreshold)
            {
                return $"IVFFlat index is current: row count drifted {drift:P0} since its build";
            }

            var build = await _builder.RebuildAsync(target, new IndexBuildOptions(VectorIndexManager.Ivfflat, Precision: status.Precision ?? IndexPrecision.Full), log, cancellationToken);
            return baseline is null
                ? $"rebuilt IVFFlat index ({build.Parameters}): no build of it was recorded"
                : $"rebuilt IVFFlat index ({build.Parameters}): row count drifted {drift:P0} ({baseline:N0} -> {status.Rows:N0})";
        }

        var reason = await HnswBloatAsync(target, status, cancellationToken);
        if (reason is null)
        {
            return "HNSW index is healthy";
        }

        var reindex = await _builder.ReindexAsync(target, status.IndexName, status.Parameters!, status.Precision ?? IndexPrecision.Full, status.Rows, log, cancellationToken);
        return $"reindexed HNSW index concurrently in {reindex.BuildSeconds:F1} s: {reason}";
    }

    // What it did, or null when the managed index is present and valid with no spare left over; Finished when
    // nothing else should run now (the index was just rebuilt, or cannot be yet).
    private async Task<(string Message, bool Finished)?> HealAsync(IndexTarget target, TextWriter? log, CancellationToken cancellationToken)
    {
        VectorIndexRow? managed, spare;
        long rows;
        IndexBuild? lastBuild;
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken))
        {
            managed = await VectorIndexCatalog.FindAsync(connection, target, target.IndexName, cancellationToken);
            spare = await VectorIndexCatalog.FindAsync(connection, target, target.SpareName, cancellationToken);
            rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, target, cancellationToken);
            lastBuild = await IndexBuildHistory.LastAsync(connection, target, cancellationToken);
        }

        if (managed is { IsValid: true })
        {
            if (spare is null)
            {
                return null;
            }

            await _builder.DropSpareAsync(target, cancellationToken);
            return ($"dropped {target.SpareName}, left behind by an interrupted rebuild", false);
        }

        if (rows == 0)
        {
            // Nothing to build from; a missing index is reported by the caller, an invalid one here.
            return managed is null ? null : ($"the index {target.IndexName} is invalid; it is rebuilt once images are embedded", true);
        }

        var options = IndexBuildOptions.Recreating(
            managed is null ? lastBuild?.Parameters : managed.Parameters, rows, managed is null ? lastBuild?.Precision : managed.Precision);
        var build = await _builder.RebuildAsync(target, options, log, cancellationToken);
        return (managed is null
            ? $"rebuilt the missing index {target.IndexName} ({build.Method}, {build.Parameters}) at {build.Precision} precision"
            : $"rebuilt the invalid index {target.IndexName} ({build.Method}, {build.Parameters}) at {build.Precision} precision: a failed concurrent build had left it unusable", true);
    }

    private async Task<string?> HnswBloatAsync(IndexTarget target, VectorIndexStatus status, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var (changedNow, dead) = await IndexBuildHistory.ReadTuplesChangedAsync(connection, target, cancellationToken);
        var build = status.LastBuild;
        var rowsAtBuild = Math.Max(1, Math.Max(build?.RowCount ?? 0, status.Rows));
        // Statistics can be reset (crash, pg_stat_reset): then only dead tuples are left to judge by.
        var changed = build?.TuplesChanged is { } baseline && changedNow >= baseline ? changedNow - baseline : build is null ? changedNow : 0;
        if (Math.Max(changed, dead) > VectorIndexManager.DriftThreshold * rowsAtBuild)
        {
            return $"{Math.Max(changed, dead):N0} of {rowsAtBuild:N0} rows updated or deleted since the build";
        }

        if (build is { SizeBytes: > 0 } && status.SizeBytes > 1.5 * build.SizeBytes && status.Rows <= 1.2 * build.RowCount)
        {
            return $"index grew from {ByteSize.Format(build.SizeBytes)} to {ByteSize.Format(status.SizeBytes)} with about the same rows";
        }

        return null;
    }
}
