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
    /// <summary>The name a rebuild builds its new index under before swapping it in.</summary>
    public const string SpareName = VectorIndexManager.IndexName + "_new";

    private readonly NpgsqlDataSource _dataSource;
    private readonly long _buildMemoryCeiling;

    public IndexBuilder(NpgsqlDataSource dataSource, long buildMemoryCeiling)
    {
        _dataSource = dataSource;
        _buildMemoryCeiling = buildMemoryCeiling;
    }

    public async Task<BuildPlan> PlanAsync(IndexBuildOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, cancellationToken);
        return await PlanAsync(connection, options.Resolve(rows), rows, cancellationToken);
    }

    public async Task<IndexBuild> RebuildAsync(IndexBuildOptions options, TextWriter? log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        var connection = session.Connection;
        var rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, cancellationToken);
        var parameters = options.Resolve(rows);
        await session.ApplyAsync(await PlanAsync(connection, parameters, rows, cancellationToken), log, cancellationToken);

        // A build interrupted earlier leaves an invalid index under the new name.
        await IndexSql.ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{SpareName}", cancellationToken);
        log?.WriteLine($"building {parameters.Method} index ({parameters}) over {rows:N0} rows concurrently; searches keep using the current index");
        var watch = Stopwatch.StartNew();
        // pgvector says when the graph outgrows maintenance_work_mem: pass that on beside the plan.
        NoticeEventHandler notice = (_, e) => log?.WriteLine($"postgres: {e.Notice.MessageText}");
        connection.Notice += notice;
        try
        {
            await IndexSql.ExecuteAsync(connection,
                $"CREATE INDEX CONCURRENTLY {SpareName} ON gallery.image_gallery USING {parameters.Method} (embedding vector_cosine_ops) WITH ({parameters})",
                cancellationToken);
        }
        finally
        {
            connection.Notice -= notice;
        }

        var seconds = watch.Elapsed.TotalSeconds;

        // Replace only the index DbFirst manages; another vector index on the column (a DBA's) stays. Renaming
        // an index takes only a SHARE UPDATE EXCLUSIVE lock, which searches do not conflict with.
        if (await VectorIndexCatalog.FindAsync(connection, VectorIndexManager.IndexName, cancellationToken) is not null)
        {
            log?.WriteLine($"dropping the old index {VectorIndexManager.IndexName} concurrently");
            await IndexSql.ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{VectorIndexManager.IndexName}", cancellationToken);
        }

        await IndexSql.ExecuteAsync(connection, $"ALTER INDEX gallery.{SpareName} RENAME TO {VectorIndexManager.IndexName}", cancellationToken);
        var build = await IndexBuildHistory.RecordAsync(connection, parameters, "create", rows, seconds, cancellationToken);
        log?.WriteLine($"built {VectorIndexManager.IndexName} ({parameters.Method}, {parameters}) in {seconds:F1} s, {ByteSize.Format(build.SizeBytes)}");
        return build;
    }

    /// <summary>Rebuilds <paramref name="index"/> in place with <c>REINDEX CONCURRENTLY</c>, its parameters kept.</summary>
    public async Task<IndexBuild> ReindexAsync(string index, IndexParameters parameters, long rows, TextWriter? log, CancellationToken cancellationToken)
    {
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        await session.ApplyAsync(await PlanAsync(session.Connection, parameters, rows, cancellationToken), log, cancellationToken);
        log?.WriteLine($"reindexing {index} concurrently");
        var watch = Stopwatch.StartNew();
        await IndexSql.ExecuteAsync(session.Connection, $"REINDEX INDEX CONCURRENTLY gallery.{PgIdentifier.Quote(index)}", cancellationToken);
        return await IndexBuildHistory.RecordAsync(session.Connection, parameters, "reindex", rows, watch.Elapsed.TotalSeconds, cancellationToken);
    }

    /// <summary>Drops the spare a rebuild left behind, under the rebuild lock: a spare is only ever built while it is held.</summary>
    public async Task DropSpareAsync(CancellationToken cancellationToken)
    {
        await using var session = await IndexBuildSession.OpenAsync(_dataSource, cancellationToken);
        await IndexSql.ExecuteAsync(session.Connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{SpareName}", cancellationToken);
    }

    // Enough memory for the HNSW graph to stay in memory during the build (pgvector warns and slows
    // down sharply once it does not), never above the configured ceiling; parallel workers only
    // where the table is big enough to repay starting them.
    private async Task<BuildPlan> PlanAsync(NpgsqlConnection connection, IndexParameters parameters, long rows, CancellationToken cancellationToken)
    {
        var dimensions = await VectorIndexCatalog.DimensionsAsync(connection, cancellationToken) ?? 512;
        // The server's own max_parallel_maintenance_workers is the DBA's statement of how many cores a build may
        // take from queries (scripts/db.sh sets it to the machine's cores); small tables build faster serially.
        var maxWorkers = await IndexSql.ScalarAsync<int>(connection,
            "SELECT least(current_setting('max_parallel_workers')::int, current_setting('max_parallel_maintenance_workers')::int)", cancellationToken);
        var workers = rows >= 50_000 ? maxWorkers : 0;
        return BuildPlanner.Plan(parameters, rows, dimensions, _buildMemoryCeiling, workers, await IndexBuildHistory.LastAsync(connection, cancellationToken));
    }
}
