using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace DbFirst.Indexing;

/// <summary>
/// Reports on, rebuilds and maintains the vector index on <c>gallery.image_gallery.embedding</c>.
/// A rebuild builds a new index <c>CONCURRENTLY</c> beside the old one and then swaps them, so searches
/// keep using the old index until the new one is ready and never block or fail.
/// DbFirst manages exactly one index, marked by its name (<see cref="IndexName"/>, and <c>…_new</c> while a rebuild
/// builds its replacement); any other vector index on the table, such as one a DBA added, is reported but never
/// dropped or rebuilt.
/// </summary>
public sealed class VectorIndexManager
{
    /// <summary>The method name of pgvector's HNSW index.</summary>
    public const string Hnsw = "hnsw";

    /// <summary>The method name of pgvector's IVFFlat index.</summary>
    public const string Ivfflat = "ivfflat";

    /// <summary>The name the gallery's vector index always ends up with: the mark of the one index DbFirst manages.</summary>
    public const string IndexName = "image_gallery_embedding_idx";

    /// <summary>An IVFFlat index trains its lists on the rows present: with fewer rows it is worse than a scan.</summary>
    public const long MinIvfflatRows = 1000;

    /// <summary>Drift in row count, or share of rows changed, past which the maintain-index job rebuilds.</summary>
    public const double DriftThreshold = 0.20;

    private const string NewIndexName = IndexName + "_new";

    // "DbFirstI": another rebuild, or the maintenance job, holds it while building.
    private const long RebuildLockKey = 0x4462_4669_7273_7449;

    private const string IndexesSql = """
        SELECT c.relname, am.amname, coalesce(array_to_string(c.reloptions, ', '), ''), i.indisvalid, pg_relation_size(c.oid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'gallery.image_gallery'::regclass AND am.amname IN ('hnsw', 'ivfflat')
        ORDER BY c.relname = 'image_gallery_embedding_idx' DESC, i.indisvalid DESC, c.relname
        """;

    // The managed index and a spare left by an interrupted rebuild; nobody else's index is ever read here.
    private const string ManagedIndexSql = """
        SELECT c.relname, am.amname, coalesce(array_to_string(c.reloptions, ', '), ''), i.indisvalid, pg_relation_size(c.oid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = 'gallery.image_gallery'::regclass AND c.relname = $1
        """;

    private const string RowsSql = "SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NOT NULL";

    private const string LastBuildSql = """
        SELECT method, parameters, operation, row_count, tuples_changed, build_seconds, size_bytes, built_at
        FROM gallery.index_builds
        WHERE index_name = $1
        ORDER BY id DESC
        LIMIT 1
        """;

    private const string SettingSql = "SELECT value, note FROM gallery.settings WHERE key = $1";

    // Non-HOT updates and deletes each leave a dead element in a vector index.
    private const string TuplesChangedSql = """
        SELECT coalesce(n_tup_upd - n_tup_hot_upd + n_tup_del, 0), coalesce(n_dead_tup, 0)
        FROM pg_stat_user_tables
        WHERE relid = 'gallery.image_gallery'::regclass
        """;

    private const string RecordBuildSql = """
        INSERT INTO gallery.index_builds (index_name, method, parameters, operation, row_count, tuples_changed, build_seconds, size_bytes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, pg_relation_size(('gallery.' || quote_ident($1))::regclass))
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly long _buildMemoryCeiling;

    /// <summary>Creates a manager over <paramref name="dataSource"/>.</summary>
    public VectorIndexManager(NpgsqlDataSource dataSource, long? buildMemoryCeiling = null)
    {
        _dataSource = dataSource;
        _buildMemoryCeiling = buildMemoryCeiling ?? BuildMemoryCeiling.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_buildMemoryCeiling, BuildMemoryCeiling.MinBytes);
    }

    /// <summary>
    /// What <see cref="RebuildAsync"/> would do with <paramref name="options"/>: memory needed and given, whether the
    /// HNSW graph spills to pgvector's on-disk path, and roughly how long it takes. Builds nothing.
    /// </summary>
    /// <exception cref="GalleryException">Bad options or a table too small for IVFFlat.</exception>
    public async Task<BuildPlan> PlanAsync(IndexBuildOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await ScalarAsync<long>(connection, RowsSql, cancellationToken);
        var (method, _, parameters) = Plan(options, rows);
        return await PlanBuildAsync(connection, method, parameters, rows, cancellationToken);
    }

    /// <summary>Reads the index's type, parameters, size, row count, last build and the search setting in force.</summary>
    public async Task<VectorIndexStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var index = await FindIndexAsync(connection, cancellationToken);
        var rows = await ScalarAsync<long>(connection, RowsSql, cancellationToken);
        if (index is null)
        {
            return new VectorIndexStatus(null, null, null, false, 0, rows, null, null, null, "no vector index: searches scan the whole table (dbfirst index rebuild builds one)");
        }

        IndexBuild? lastBuild = null;
        await using (var command = new NpgsqlCommand(LastBuildSql, connection) { Parameters = { new() { Value = index.Name } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                lastBuild = new IndexBuild(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6),
                    reader.GetFieldValue<DateTimeOffset>(7));
            }
        }

        var setting = index.Method == Hnsw ? "hnsw.ef_search" : "ivfflat.probes";
        var (value, note) = await ReadSettingAsync(connection, setting, cancellationToken);
        value ??= index.Method == Hnsw ? "40" : "1";
        note ??= "pgvector's default (dbfirst index tune picks a value for a target recall)";
        return new VectorIndexStatus(index.Name, index.Method, Describe(index.Method, index.Options), index.IsValid, index.SizeBytes, rows, lastBuild, setting, value, note);
    }

    /// <summary>
    /// Builds a new index concurrently, drops the old one concurrently and renames the new one to
    /// <see cref="IndexName"/>. Progress lines go to <paramref name="log"/>.
    /// </summary>
    /// <exception cref="GalleryException">Bad options, a table too small for IVFFlat, or another rebuild running.</exception>
    public async Task<IndexBuild> RebuildAsync(IndexBuildOptions options, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var connection = await OpenBuildConnectionAsync(cancellationToken);
        try
        {
            var rows = await ScalarAsync<long>(connection, RowsSql, cancellationToken);
            var (method, withClause, parameters) = Plan(options, rows);
            await ApplyPlanAsync(connection, await PlanBuildAsync(connection, method, parameters, rows, cancellationToken), log, cancellationToken);

            // A build interrupted earlier leaves an invalid index under the new name.
            await ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{NewIndexName}", cancellationToken);
            log?.WriteLine($"building {method} index ({parameters}) over {rows:N0} rows concurrently; searches keep using the current index");
            var watch = Stopwatch.StartNew();
            // pgvector says when the graph outgrows maintenance_work_mem: pass that on beside the plan.
            NoticeEventHandler notice = (_, e) => log?.WriteLine($"postgres: {e.Notice.MessageText}");
            connection.Notice += notice;
            try
            {
                await ExecuteAsync(connection,
                    $"CREATE INDEX CONCURRENTLY {NewIndexName} ON gallery.image_gallery USING {method} (embedding vector_cosine_ops) WITH ({withClause})",
                    cancellationToken);
            }
            finally
            {
                connection.Notice -= notice;
            }

            var seconds = watch.Elapsed.TotalSeconds;

            // Replace only the index DbFirst manages; another vector index on the column (a DBA's) stays. Renaming
            // an index takes only a SHARE UPDATE EXCLUSIVE lock, which searches do not conflict with.
            if (await FindManagedAsync(connection, IndexName, cancellationToken) is not null)
            {
                log?.WriteLine($"dropping the old index {IndexName} concurrently");
                await ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{IndexName}", cancellationToken);
            }

            await ExecuteAsync(connection, $"ALTER INDEX gallery.{NewIndexName} RENAME TO {IndexName}", cancellationToken);
            var build = await RecordBuildAsync(connection, method, parameters, "create", rows, seconds, cancellationToken);
            log?.WriteLine($"built {IndexName} ({method}, {parameters}) in {seconds:F1} s, {FormatBytes(build.SizeBytes)}");
            return build;
        }
        finally
        {
            await ReleaseLockAsync(connection);
        }
    }

    /// <summary>
    /// The recurring maintain-index job. It first heals: a managed index that is missing, or invalid
    /// (<c>pg_index.indisvalid = false</c>, left by a failed concurrent build, which searches cannot use), is rebuilt
    /// with its recorded method and parameters, and an invalid spare left by an interrupted rebuild is dropped. Then it
    /// rebuilds an IVFFlat index whose row count drifted more than
    /// <see cref="DriftThreshold"/> since it was built (its lists no longer fit the data), and reindexes an
    /// HNSW index concurrently when more than that share of its rows was updated or deleted since its
    /// build, or it grew past 1.5 times its built size (dead graph elements). Safe to run twice.
    /// </summary>
    /// <returns>What it did, for the job log.</returns>
    public async Task<string> MaintainAsync(TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        var healed = await HealAsync(log, cancellationToken);
        if (healed is { Finished: true })
        {
            return healed.Value.Message;
        }

        var maintained = await MaintainValidAsync(log, cancellationToken);
        return healed is { Message: var spare } ? $"{spare}; {maintained}" : maintained;
    }

    private async Task<string> MaintainValidAsync(TextWriter? log, CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync(cancellationToken);
        if (status.IndexName != IndexName)
        {
            return "no embedded rows: nothing to index yet";
        }

        if (status.Method == Ivfflat)
        {
            if (status.Rows < MinIvfflatRows)
            {
                return $"IVFFlat index left alone: {status.Rows} rows is too few to retrain it";
            }

            var baseline = status.LastBuild?.RowCount;
            var drift = baseline is > 0 ? Math.Abs(status.Rows - baseline.Value) / (double)baseline.Value : double.PositiveInfinity;
            if (drift <= DriftThreshold)
            {
                return $"IVFFlat index is current: row count drifted {drift:P0} since its build";
            }

            var build = await RebuildAsync(new IndexBuildOptions(Ivfflat), log, cancellationToken);
            return baseline is null
                ? $"rebuilt IVFFlat index ({build.Parameters}): no build of it was recorded"
                : $"rebuilt IVFFlat index ({build.Parameters}): row count drifted {drift:P0} ({baseline:N0} -> {status.Rows:N0})";
        }

        var reason = await HnswBloatAsync(status, cancellationToken);
        if (reason is null)
        {
            return "HNSW index is healthy";
        }

        var reindex = await ReindexAsync(status, log, cancellationToken);
        return $"reindexed HNSW index concurrently in {reindex.BuildSeconds:F1} s: {reason}";
    }

    // What it did, or null when the managed index is present and valid with no spare left over; Finished when
    // nothing else should run now (the index was just rebuilt, or cannot be yet).
    private async Task<(string Message, bool Finished)?> HealAsync(TextWriter? log, CancellationToken cancellationToken)
    {
        IndexRow? managed, spare;
        long rows;
        IndexBuild? lastBuild;
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken))
        {
            managed = await FindManagedAsync(connection, IndexName, cancellationToken);
            spare = await FindManagedAsync(connection, NewIndexName, cancellationToken);
            rows = await ScalarAsync<long>(connection, RowsSql, cancellationToken);
            lastBuild = await LastBuildAsync(connection, cancellationToken);
        }

        if (managed is { IsValid: true })
        {
            if (spare is null)
            {
                return null;
            }

            // Dropped under the rebuild lock: a spare is only ever built while that lock is held.
            await using var connection = await OpenBuildConnectionAsync(cancellationToken);
            try
            {
                await ExecuteAsync(connection, $"DROP INDEX CONCURRENTLY IF EXISTS gallery.{NewIndexName}", cancellationToken);
            }
            finally
            {
                await ReleaseLockAsync(connection);
            }

            return ($"dropped {NewIndexName}, left behind by an interrupted rebuild", false);
        }

        if (rows == 0)
        {
            // Nothing to build from; a missing index is reported by the caller, an invalid one here.
            return managed is null ? null : ($"the index {IndexName} is invalid; it is rebuilt once images are embedded", true);
        }

        var options = managed is null
            ? OptionsOf(lastBuild?.Method, lastBuild?.Parameters, rows)
            : OptionsOf(managed.Method, managed.Options, rows);
        var build = await RebuildAsync(options, log, cancellationToken);
        return (managed is null
            ? $"rebuilt the missing index {IndexName} ({build.Method}, {build.Parameters})"
            : $"rebuilt the invalid index {IndexName} ({build.Method}, {build.Parameters}): a failed concurrent build had left it unusable", true);
    }

    // "m = 16, ef_construction = 64" (or pg_class.reloptions' "m=16") as numbers by name.
    private static Dictionary<string, int> ParseOptions(string? parameters) =>
        (parameters ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(option => option.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2 && int.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .ToDictionary(pair => pair[0], pair => int.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    // The build that recreates an index as it was: its method and parameters, except that IVFFlat needs enough rows.
    private static IndexBuildOptions OptionsOf(string? method, string? parameters, long rows)
    {
        var settings = ParseOptions(parameters);
        if (method == Ivfflat && rows >= MinIvfflatRows)
        {
            // Lists follow the rows now, as pgvector advises, rather than the rows of the lost build.
            return new IndexBuildOptions(Ivfflat);
        }

        return new IndexBuildOptions(Hnsw, M: settings.TryGetValue("m", out var m) ? m : null, EfConstruction: settings.TryGetValue("ef_construction", out var ef) ? ef : null);
    }

    private static async Task<IndexBuild?> LastBuildAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LastBuildSql, connection) { Parameters = { new() { Value = IndexName } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new IndexBuild(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6),
                reader.GetFieldValue<DateTimeOffset>(7))
            : null;
    }

    private static async Task<IndexRow?> FindManagedAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ManagedIndexSql, connection) { Parameters = { new() { Value = name } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new IndexRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetInt64(4))
            : null;
    }

    private async Task<string?> HnswBloatAsync(VectorIndexStatus status, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var (changedNow, dead) = await ReadTuplesChangedAsync(connection, cancellationToken);
        var build = status.LastBuild;
        var rowsAtBuild = Math.Max(1, Math.Max(build?.RowCount ?? 0, status.Rows));
        // Statistics can be reset (crash, pg_stat_reset): then only dead tuples are left to judge by.
        var changed = build?.TuplesChanged is { } baseline && changedNow >= baseline ? changedNow - baseline : build is null ? changedNow : 0;
        if (Math.Max(changed, dead) > DriftThreshold * rowsAtBuild)
        {
            return $"{Math.Max(changed, dead):N0} of {rowsAtBuild:N0} rows updated or deleted since the build";
        }

        if (build is { SizeBytes: > 0 } && status.SizeBytes > 1.5 * build.SizeBytes && status.Rows <= 1.2 * build.RowCount)
        {
            return $"index grew from {FormatBytes(build.SizeBytes)} to {FormatBytes(status.SizeBytes)} with about the same rows";
        }

        return null;
    }

    private async Task<IndexBuild> ReindexAsync(VectorIndexStatus status, TextWriter? log, CancellationToken cancellationToken)
    {
        await using var connection = await OpenBuildConnectionAsync(cancellationToken);
        try
        {
            await ApplyPlanAsync(connection, await PlanBuildAsync(connection, status.Method!, status.Parameters ?? "", status.Rows, cancellationToken), log, cancellationToken);
            log?.WriteLine($"reindexing {status.IndexName} concurrently");
            var watch = Stopwatch.StartNew();
            await ExecuteAsync(connection, $"REINDEX INDEX CONCURRENTLY gallery.{Quote(status.IndexName!)}", cancellationToken);
            return await RecordBuildAsync(connection, status.Method!, status.Parameters ?? "", "reindex", status.Rows, watch.Elapsed.TotalSeconds, cancellationToken);
        }
        finally
        {
            await ReleaseLockAsync(connection);
        }
    }

    private static (string Method, string WithClause, string Parameters) Plan(IndexBuildOptions options, long rows)
    {
        var method = options.Method.Trim().ToLowerInvariant();
        if (rows == 0)
        {
            throw new GalleryException("gallery.image_gallery has no embedded rows yet: there is nothing to index (embed images first)");
        }

        switch (method)
        {
            case Hnsw:
                if (options.Lists is not null)
                {
                    throw new GalleryException("--lists applies to ivfflat, not hnsw");
                }

                var m = options.M ?? 16;
                var ef = options.EfConstruction ?? 64;
                if (m is < 2 or > 100)
                {
                    throw new GalleryException($"--m must be between 2 and 100, not {m}");
                }

                if (ef < 2 * m || ef > 1000)
                {
                    throw new GalleryException($"--ef-construction must be between 2 x m ({2 * m}) and 1000, not {ef}");
                }

                var hnsw = $"m = {m}, ef_construction = {ef}";
                return (Hnsw, hnsw, hnsw);
            case Ivfflat:
                if (options.M is not null || options.EfConstruction is not null)
                {
                    throw new GalleryException("--m and --ef-construction apply to hnsw, not ivfflat");
                }

                if (rows < MinIvfflatRows)
                {
                    throw new GalleryException(
                        $"gallery.image_gallery has only {rows:N0} embedded rows: an IVFFlat index trains its lists on the rows present and needs at least {MinIvfflatRows:N0} (keep HNSW, which suits small tables)");
                }

                var lists = options.Lists ?? IvfflatLists.ForRows(rows);
                if (lists < 1 || lists > 32768 || lists > rows / 10)
                {
                    throw new GalleryException($"--lists must be between 1 and {Math.Min(32768, rows / 10):N0} for {rows:N0} rows (at least 10 rows per list), not {lists}");
                }

                var ivf = $"lists = {lists}";
                return (Ivfflat, ivf, ivf);
            default:
                throw new GalleryException($"--type must be hnsw or ivfflat, not '{options.Method}'");
        }
    }

    // Enough memory for the HNSW graph to stay in memory during the build (pgvector warns and slows
    // down sharply once it does not), never above the configured ceiling; parallel workers only
    // where the table is big enough to repay starting them.
    private async Task<BuildPlan> PlanBuildAsync(NpgsqlConnection connection, string method, string parameters, long rows, CancellationToken cancellationToken)
    {
        var dimensions = await ScalarAsync<int?>(connection, "SELECT vector_dims(embedding) FROM gallery.image_gallery WHERE embedding IS NOT NULL LIMIT 1", cancellationToken) ?? 512;
        // The server's own max_parallel_maintenance_workers is the DBA's statement of how many cores a build may
        // take from queries (scripts/db.sh sets it to the machine's cores); small tables build faster serially.
        var maxWorkers = await ScalarAsync<int>(connection,
            "SELECT least(current_setting('max_parallel_workers')::int, current_setting('max_parallel_maintenance_workers')::int)", cancellationToken);
        var workers = rows >= 50_000 ? maxWorkers : 0;
        var settings = ParseOptions(parameters);
        return BuildPlanner.Plan(method, parameters, settings.GetValueOrDefault("m", 16), settings.GetValueOrDefault("ef_construction", 64),
            rows, dimensions, _buildMemoryCeiling, workers, await LastBuildAsync(connection, cancellationToken));
    }

    private static async Task ApplyPlanAsync(NpgsqlConnection connection, BuildPlan plan, TextWriter? log, CancellationToken cancellationToken)
    {
        var kiB = (plan.MaintenanceWorkMemBytes / 1024).ToString(CultureInfo.InvariantCulture);
        await ExecuteAsync(connection,
            $"SET maintenance_work_mem = '{kiB}kB'; SET max_parallel_maintenance_workers = {plan.Workers.ToString(CultureInfo.InvariantCulture)}; SET statement_timeout = 0",
            cancellationToken);
        foreach (var line in plan.Describe())
        {
            log?.WriteLine(line);
        }
    }

    private async Task<NpgsqlConnection> OpenBuildConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Session-level and outside any transaction, so it holds no snapshot that CONCURRENTLY would wait for.
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection) { Parameters = { new() { Value = RebuildLockKey } } };
            if (await command.ExecuteScalarAsync(cancellationToken) is not true)
            {
                throw new GalleryException("another index rebuild is running on this database; try again when it has finished");
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task ReleaseLockAsync(NpgsqlConnection connection)
    {
        if (connection.State == System.Data.ConnectionState.Open)
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock($1); RESET ALL", connection) { Parameters = { new() { Value = RebuildLockKey } } };
                await command.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // A broken connection releases its session locks as it closes.
            }
        }
    }

    private static async Task<IndexBuild> RecordBuildAsync(NpgsqlConnection connection, string method, string parameters, string operation, long rows, double seconds, CancellationToken cancellationToken)
    {
        var (changed, _) = await ReadTuplesChangedAsync(connection, cancellationToken);
        await using (var command = new NpgsqlCommand(RecordBuildSql, connection)
        {
            Parameters =
            {
                new() { Value = IndexName }, new() { Value = method }, new() { Value = parameters }, new() { Value = operation },
                new() { Value = rows }, new() { Value = changed }, new() { Value = seconds },
            },
        })
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        var size = await ScalarAsync<long>(connection, $"SELECT pg_relation_size('gallery.{IndexName}'::regclass)", cancellationToken);
        return new IndexBuild(method, parameters, operation, rows, changed, seconds, size, DateTimeOffset.UtcNow);
    }

    private static async Task<(long Changed, long Dead)> ReadTuplesChangedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TuplesChangedSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    private static async Task<IndexRow?> FindIndexAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(IndexesSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new IndexRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetBoolean(3), reader.GetInt64(4))
            : null;
    }

    private static async Task<(string? Value, string? Note)> ReadSettingAsync(NpgsqlConnection connection, string key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SettingSql, connection) { Parameters = { new() { Value = key } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : (null, null);
    }

    private static string Describe(string method, string options)
    {
        var settings = options.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(option => option.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : "", StringComparer.Ordinal);
        return method == Hnsw
            ? $"m = {settings.GetValueOrDefault("m", "16")}, ef_construction = {settings.GetValueOrDefault("ef_construction", "64")}"
            : $"lists = {settings.GetValueOrDefault("lists", "100")}";
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):F1} KiB",
        _ => $"{bytes} B",
    };

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default! : (T)value;
    }

    private sealed record IndexRow(string Name, string Method, string Options, bool IsValid, long SizeBytes);
}
