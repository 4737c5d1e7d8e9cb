using System.Diagnostics;
using DbFirst.Database;
using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// Plans and runs builds of the managed index: a rebuild builds a new index <c>CONCURRENTLY</c> beside the old one
/// and swaps them; a reindex rebuilds it in place concurrently. Each runs in an <see cref="IndexBuildSession"/> and
/// is recorded in <see cref="IndexBuildHistory"/>.
/// </summary>
internal sealed class IndexBuilder
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly long _buildMemoryCeiling;

    public IndexBuilder(NpgsqlDataSource dataSource, long buildMemoryCeiling)
    {
        _dataSource = dataSource;
        _buildMemoryCeiling = buildMemoryCeiling;
    }

    public async Task<BuildPlan> PlanAsync(IndexTarget target, IndexBuildOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, target, cancellationToken);
        return await PlanAsync(connection, target, options.Resolve(rows), IndexPrecision.Resolve(options.Precision), rows, cancellationToken);
    }

    public async Task<IndexBuild> RebuildAsync(IndexTarget target, IndexBuildOptions options, TextWriter? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        var connection = session.Connection;
        var rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, target, cancellationToken);
        var parameters = options.Resolve(rows);
        var precision = IndexPrecision.Resolve(options.Precision);
        await session.ApplyAsync(await PlanAsync(connection, target, parameters, precision, rows, cancellationToken), log, cancellationToken);
        var spareName = target.SpareName;
        var indexName = target.IndexName;

        // A build interrupted earlier leaves an invalid index under the new name.
        await IndexSql.ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{spareName}", cancellationToken);
        log?.WriteLine($"building {parameters.Method} index ({parameters}, {precision} precision) of model {target.ModelName} over {rows:N0} rows concurrently; searches keep using the current index");
        var watch = Stopwatch.StartNew();
        // pgvector says when the graph outgrows maintenance_work_mem: pass that on beside the plan.
        NoticeEventHandler notice = (_, e) => log?.WriteLine($"postgres: {e.Notice.MessageText}");
        connection.Notice += notice;
        try
        {
            await IndexSql.ExecuteAsync(connection,
                $"CREATE INDEX CONCURRENTLY {spareName} ON gallery.{target.Table} USING {parameters.Method} ({target.IndexColumn(precision)}) WITH ({parameters})",
                cancellationToken);
        }
        finally
        {
            connection.Notice -= notice;
        }

        var seconds = watch.Elapsed.TotalSeconds;

        // Replace only the index DbFirst manages; another vector index on the column (a DBA's) stays. Renaming
        // an index takes only a SHARE UPDATE EXCLUSIVE lock, which searches do not conflict with. The search
        // functions read the managed index's precision per call, so a swap between full and half needs nothing else.
        if (await VectorIndexCatalog.FindAsync(connection, target, indexName, cancellationToken) is not null)
        {
            log?.WriteLine($"dropping the old index {indexName} concurrently");
            await IndexSql.ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{indexName}", cancellationToken);
        }

        await IndexSql.ExecuteAsync(connection, $"ALTER INDEX gallery.{spareName} RENAME TO {indexName}", cancellationToken);
        var build = await IndexBuildHistory.RecordAsync(connection, target, parameters, precision, "create", rows, seconds, cancellationToken);
        log?.WriteLine($"built {indexName} ({parameters.Method}, {parameters}, {precision} precision) in {seconds:F1} s, {ByteSize.Format(build.SizeBytes)}");
        return build;
    }

    /// <summary>Rebuilds <paramref name="index"/> in place with <c>REINDEX CONCURRENTLY</c>, its parameters and precision kept.</summary>
    public async Task<IndexBuild> ReindexAsync(IndexTarget target, string index, IndexParameters parameters, string precision, long rows, TextWriter? log, CancellationToken cancellationToken)
    {
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        await session.ApplyAsync(await PlanAsync(session.Connection, target, parameters, precision, rows, cancellationToken), log, cancellationToken);
        log?.WriteLine($"reindexing {index} concurrently");
        var watch = Stopwatch.StartNew();
        await IndexSql.ExecuteAsync(session.Connection, $"REINDEX INDEX CONCURRENTLY gallery.{PgIdentifier.Quote(index)}", cancellationToken);
        return await IndexBuildHistory.RecordAsync(session.Connection, target, parameters, precision, "reindex", rows, watch.Elapsed.TotalSeconds, cancellationToken);
    }

    /// <summary>Drops the spare a rebuild left behind, under the rebuild lock: a spare is only ever built while it is held.</summary>
    public async Task DropSpareAsync(IndexTarget target, CancellationToken cancellationToken)
    {
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        await IndexSql.ExecuteAsync(session.Connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{target.SpareName}", cancellationToken);
    }

    // Enough memory for the HNSW graph to stay in memory during the build (pgvector warns and slows
    // down sharply once it does not), never above the configured ceiling; parallel workers only
    // where the table is big enough to repay starting them.
    private async Task<BuildPlan> PlanAsync(NpgsqlConnection connection, IndexTarget target, IndexParameters parameters, string precision, long rows, CancellationToken cancellationToken)
    {
        var dimensions = target.Dimension;
        // The server's own max_parallel_maintenance_workers is the DBA's statement of how many cores a build may
        // take from queries (scripts/db.sh sets it to the machine's cores); small tables build faster serially.
        var maxWorkers = await IndexSql.ScalarAsync<int>(connection,
            "SELECT least(current_setting('max_parallel_workers')::int, current_setting('max_parallel_maintenance_workers')::int)", cancellationToken);
        var workers = rows >= 50_000 ? maxWorkers : 0;
        return BuildPlanner.Plan(parameters, rows, dimensions, _buildMemoryCeiling, workers, await IndexBuildHistory.LastAsync(connection, target, cancellationToken), precision);
    }
}
