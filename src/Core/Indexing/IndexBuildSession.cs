using System.Globalization;
using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// A connection holding the rebuild lock, the one session allowed to build, drop or swap the managed index; set up
/// with a <see cref="BuildPlan"/>'s memory and workers. Disposing it releases the lock and the settings.
/// </summary>
internal sealed class IndexBuildSession : IAsyncDisposable
{
    // "DbFirstI": another rebuild, or the maintenance job, holds it while building.
    private const long RebuildLockKey = 0x4462_4669_7273_7449;

    private IndexBuildSession(NpgsqlConnection connection) => Connection = connection;

    /// <summary>The locked connection.</summary>
    public NpgsqlConnection Connection { get; }

    /// <summary>Opens a connection and takes the rebuild lock without waiting.</summary>
    /// <exception cref="GalleryException">Another rebuild holds the lock.</exception>
    public static async Task<IndexBuildSession> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Session-level and outside any transaction, so it holds no snapshot that CONCURRENTLY would wait for.
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection) { Parameters = { new() { Value = RebuildLockKey } } };
            if (await command.ExecuteScalarAsync(cancellationToken) is not true)
            {
                throw new GalleryException("another index rebuild is running on this database; try again when it has finished");
            }

            return new IndexBuildSession(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Gives the session the plan's <c>maintenance_work_mem</c> and workers, no statement timeout, and logs the plan.</summary>
    public async Task ApplyAsync(BuildPlan plan, TextWriter? log, CancellationToken cancellationToken)
    {
        var kiB = (plan.MaintenanceWorkMemBytes / 1024).ToString(CultureInfo.InvariantCulture);
        await IndexSql.ExecuteAsync(Connection,
            $"SET maintenance_work_mem = '{kiB}kB'; SET max_parallel_maintenance_workers = {plan.Workers.ToString(CultureInfo.InvariantCulture)}; SET statement_timeout = 0",
            cancellationToken);
        foreach (var line in plan.Describe())
        {
            log?.WriteLine(line);
        }
    }

    /// <summary>Releases the lock and the session's settings, then the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Connection.State == System.Data.ConnectionState.Open)
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1); RESET ALL", Connection) { Parameters = { new() { Value = RebuildLockKey } } };
                await command.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // A broken connection releases its session locks as it closes.
            }
        }

        await Connection.DisposeAsync();
    }
}
