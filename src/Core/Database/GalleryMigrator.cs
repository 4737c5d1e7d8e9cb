using System.Reflection;
using DbFirst.Migrations;
using FluentMigrator.Infrastructure;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Logging;
using FluentMigrator.Runner.Processors;
using FluentMigrator.Runner.VersionTableInfo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// Applies, rolls back, lists and previews the gallery's versioned migrations. Every change runs under a
/// PostgreSQL advisory lock, so two runners started together apply each migration once: the second waits,
/// then finds nothing left to do.
/// </summary>
public sealed class GalleryMigrator
{
    // Any fixed 64-bit number works; this one spells "DbFirstM" so it is recognisable in pg_locks.
    private const long AdvisoryLockKey = 0x4462_4669_7273_744D;

    private static readonly Assembly s_migrationsAssembly = typeof(CreateVectorExtension).Assembly;

    private static readonly Dictionary<long, Type> s_migrationTypes = s_migrationsAssembly.GetTypes()
        .Select(type => (type, attribute: type.GetCustomAttribute<FluentMigrator.MigrationAttribute>()))
        .Where(pair => pair.attribute is not null)
        .ToDictionary(pair => pair.attribute!.Version, pair => pair.type);

    private readonly string _connectionString;

    /// <summary>Creates a migrator for the database at <paramref name="connectionString"/>.</summary>
    public GalleryMigrator(string connectionString) => _connectionString = connectionString;

    /// <summary>Applies pending migrations up to <paramref name="targetVersion"/>, or all of them.</summary>
    /// <returns>The versions applied by this call, oldest first.</returns>
    public async Task<IReadOnlyList<long>> MigrateUpAsync(long? targetVersion = null, CancellationToken cancellationToken = default)
    {
        await using var lockConnection = await AcquireLockAsync(cancellationToken);
        var before = await AppliedVersionsAsync(cancellationToken);
        RunWithRunner(null, runner => MigrateUp(runner, targetVersion));
        var after = await AppliedVersionsAsync(cancellationToken);
        return after.Except(before).Order().ToList();
    }

    /// <summary>
    /// Rolls back every migration above <paramref name="targetVersion"/>; 0 removes everything the migrations made.
    /// A step that would destroy data its migration declares (<see cref="DownLosesAttribute"/>, <see cref="DownDropsRolesAttribute"/>)
    /// is refused unless <paramref name="force"/>; roles with members are kept with their memberships either way.
    /// </summary>
    /// <returns>The versions rolled back by this call, newest first.</returns>
    /// <exception cref="GalleryException">The rollback would destroy data and <paramref name="force"/> is false; nothing was changed.</exception>
    public async Task<IReadOnlyList<long>> MigrateDownAsync(long targetVersion, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetVersion);
        await using var lockConnection = await AcquireLockAsync(cancellationToken);
        var before = await AppliedVersionsAsync(cancellationToken);
        var doomed = before.Where(version => version > targetVersion).ToList();
        var losses = await DownStepGuard.FindLossesAsync(lockConnection.Connection, doomed, s_migrationTypes, cancellationToken);
        if (losses.Count > 0 && !force)
        {
            throw new GalleryException(
                $"migrate down --to {targetVersion} would destroy {string.Join("; ", losses)}. Nothing was changed; add --force to roll back anyway");
        }

        var memberships = await DownStepGuard.RecordMembershipsAsync(lockConnection.Connection, doomed, s_migrationTypes, cancellationToken);
        try
        {
            if (before.Count > 0)
            {
                RunWithRunner(null, runner => runner.MigrateDown(targetVersion));
            }
        }
        finally
        {
            // Also after a failed step: a role it dropped must not take its members with it.
            await DownStepGuard.RestoreMembershipsAsync(lockConnection.Connection, memberships, CancellationToken.None);
        }

        if (targetVersion == 0)
        {
            await DropVersionTableAsync(lockConnection.Connection, cancellationToken);
        }

        var after = await AppliedVersionsAsync(cancellationToken);
        return before.Except(after).OrderDescending().ToList();
    }

    /// <summary>What <c>migrate down --to <paramref name="targetVersion"/></c> would destroy now, newest step first.</summary>
    public async Task<IReadOnlyList<DownStepLoss>> DownLossesAsync(long targetVersion, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetVersion);
        var applied = await AppliedVersionsAsync(cancellationToken);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return await DownStepGuard.FindLossesAsync(connection, applied.Where(version => version > targetVersion), s_migrationTypes, cancellationToken);
    }

    /// <summary>
    /// Writes what <c>migrate down --to <paramref name="targetVersion"/></c> would destroy (as SQL comments) and the SQL
    /// it would run to <paramref name="output"/>, running none of it.
    /// </summary>
    public async Task PreviewDownAsync(TextWriter output, long targetVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        var losses = await DownLossesAsync(targetVersion, cancellationToken);
        await output.WriteLineAsync(losses.Count == 0
            ? $"-- migrate down --to {targetVersion} destroys no declared data"
            : $"-- migrate down --to {targetVersion} would destroy (refused without --force):");
        foreach (var loss in losses)
        {
            await output.WriteLineAsync($"--   {loss}");
        }

        if ((await AppliedVersionsAsync(cancellationToken)).Count > 0)
        {
            RunWithRunner(output, runner => runner.MigrateDown(targetVersion));
        }
    }

    /// <summary>Lists every known migration with whether and when it was applied.</summary>
    public async Task<IReadOnlyList<MigrationState>> ListAsync(CancellationToken cancellationToken = default)
    {
        var applied = await AppliedOnAsync(cancellationToken);
        return s_migrationsAssembly.GetTypes()
            .Select(type => (type, attribute: type.GetCustomAttribute<FluentMigrator.MigrationAttribute>()))
            .Where(pair => pair.attribute is not null)
            .Select(pair => new MigrationState(
                pair.attribute!.Version,
                pair.attribute.Description ?? pair.type.Name,
                applied.TryGetValue(pair.attribute.Version, out var on) ? on : null))
            .OrderBy(state => state.Version)
            .ToList();
    }

    /// <summary>Writes the SQL that <c>migrate up</c> would run to <paramref name="output"/>, running none of it.</summary>
    public Task PreviewAsync(TextWriter output, long? targetVersion = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RunWithRunner(output, runner => MigrateUp(runner, targetVersion));
        return Task.CompletedTask;
    }

    private static void MigrateUp(IMigrationRunner runner, long? targetVersion)
    {
        if (targetVersion is { } target)
        {
            runner.MigrateUp(target);
        }
        else
        {
            runner.MigrateUp();
        }
    }

    // Polls pg_try_advisory_lock instead of blocking in pg_advisory_lock: a session blocked inside a
    // statement holds a snapshot, and CREATE INDEX CONCURRENTLY in the other runner would wait for it forever.
    private async Task<MigrationLock> AcquireLockAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", AdvisoryLockKey);
            var delay = TimeSpan.FromMilliseconds(50);
            while (await command.ExecuteScalarAsync(cancellationToken) is not true)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }

            return new MigrationLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<HashSet<long>> AppliedVersionsAsync(CancellationToken cancellationToken) =>
        (await AppliedOnAsync(cancellationToken)).Keys.ToHashSet();

    private async Task<Dictionary<long, DateTime>> AppliedOnAsync(CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT version, applied_on
            FROM {GalleryVersionTable.Schema}.{GalleryVersionTable.Table}
            """;
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand(
            $"SELECT to_regclass('{GalleryVersionTable.Schema}.{GalleryVersionTable.Table}') IS NOT NULL", connection))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return [];
            }
        }

        var result = new Dictionary<long, DateTime>();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetInt64(0)] = reader.IsDBNull(1) ? DateTime.MinValue : reader.GetDateTime(1);
        }

        return result;
    }

    // At version 0 nothing of ours is left but the version table, so remove it and the schema too:
    // a database taken down to 0 looks as it did before the first migration.
    private static async Task DropVersionTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = $"""
            DROP TABLE IF EXISTS {GalleryVersionTable.Schema}.{GalleryVersionTable.Table};
            DO $$
            BEGIN
              IF NOT EXISTS (
                SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{GalleryVersionTable.Schema}'
                UNION ALL
                SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '{GalleryVersionTable.Schema}'
                UNION ALL
                SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = '{GalleryVersionTable.Schema}')
              THEN
                DROP SCHEMA IF EXISTS {GalleryVersionTable.Schema};
              END IF;
            END $$;
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // pgvector's settings (hnsw.iterative_scan, ivfflat.max_probes, …) exist in a session only once its library
    // is loaded; before that, a non-superuser may not name them in CREATE FUNCTION … SET, so a migrate that
    // starts above the migrations that first touch a vector (an upgrade from 80 to 91, say) failed with
    // "permission denied to set parameter". The runner's session loads the library first, when the extension exists.
    private const string LoadVectorLibrarySql = """
        DO $$
        DECLARE
          vector_type regtype := (
            SELECT t.oid::regtype
            FROM pg_type t
            JOIN pg_depend d ON d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid
            WHERE e.extname = 'vector' AND t.typname = 'vector');
        BEGIN
          IF vector_type IS NOT NULL THEN
            EXECUTE format('SELECT %L::%s', '[1]', vector_type);
          END IF;
        END
        $$
        """;

    private void RunWithRunner(TextWriter? previewOutput, Action<IMigrationRunner> action)
    {
        var services = new ServiceCollection()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner => runner
                .AddPostgres()
                .WithGlobalConnectionString(_connectionString)
                .WithVersionTable(new GalleryVersionTable())
                .ScanIn(s_migrationsAssembly).For.Migrations().For.EmbeddedResources())
            .Configure<ProcessorOptions>(options =>
            {
                options.PreviewOnly = previewOutput is not null;
                // Index builds on a large gallery take longer than the default 30 seconds.
                options.Timeout = TimeSpan.FromHours(6);
            })
            .AddLogging(logging =>
            {
                logging.ClearProviders();
                if (previewOutput is not null)
                {
                    logging.AddProvider(new SqlScriptFluentMigratorLoggerProvider(previewOutput, new SqlScriptFluentMigratorLoggerOptions { ShowSql = true, ShowElapsedTime = false }));
                }
            })
            .BuildServiceProvider(validateScopes: false);
        using (services)
        {
            using var scope = services.CreateScope();
            var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
            if (previewOutput is null)
            {
                runner.Processor.Execute(LoadVectorLibrarySql);
            }

            action(runner);
        }
    }

    // A pooled connection keeps its session-level advisory lock until Npgsql resets it on the next reuse,
    // so the lock is released explicitly before the connection goes back to the pool.
    private sealed class MigrationLock(NpgsqlConnection connection) : IAsyncDisposable
    {
        public NpgsqlConnection Connection => connection;

        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", AdvisoryLockKey);
                await command.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // A broken connection has lost its session, and the lock with it.
            }
            finally
            {
                await connection.DisposeAsync();
            }
        }
    }
}
