using DbFirst.Runner.Hosting;
using Npgsql;

namespace DbFirst.Bench;

/// <summary>
/// Many workers on one database: for each worker count, starts that many <c>worker-host</c> processes on one scratch
/// database, measures the database's transactions while they idle, then queues rows, enqueues <c>embed-pending</c>
/// once per process and measures how fast they claim the rows and that each row is embedded exactly once.
/// </summary>
internal sealed class WorkersBenchmark
{
    // Start-up runs Hangfire's expiration and counter passes once; they are not the steady idle load. Longer than
    // PostgreSQL's 10-second idle stats flush (PGSTAT_IDLE_INTERVAL): a backend that went idle after the warm-up's
    // writes reports their transactions to pg_stat_database up to 10 s later, and at 10 s exactly they fell into
    // the idle window under load (5.75 per worker-second in a 2-second window, in CI beside an index build).
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(50);
    private const int WarmUpRowsPerWorker = 64;

    private const string TransactionsSql = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1";

    private const string SessionsSql = "SELECT count(*)::int FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()";

    private const string InsertSql = """
        INSERT INTO gallery.image_gallery (path) SELECT unnest($1::text[])
        RETURNING id
        """;

    private const string EmbeddedSql = "SELECT count(*) FROM gallery.image_embeddings WHERE image_id = ANY($1) AND model_id = $2";

    private const string OutcomeSql = """
        SELECT (SELECT count(*) FROM gallery.image_embeddings e WHERE e.image_id = ANY($1) AND e.model_id = $2),
               (SELECT extract(epoch FROM min(e.embedded_at) - $3) FROM gallery.image_embeddings e WHERE e.image_id = ANY($1) AND e.model_id = $2),
               (SELECT extract(epoch FROM $4 - min(e.embedded_at)) FROM gallery.image_embeddings e WHERE e.image_id = ANY($1) AND e.model_id = $2),
               (SELECT count(*) FROM gallery.image_gallery g WHERE g.id = ANY($1) AND g.embed_attempts > 0)
        """;

    private readonly string _ownerConnectionString;
    private readonly string _runtimeConnectionString;
    private readonly string _modelDirectory;
    private readonly TextWriter _log;

    /// <param name="ownerConnectionString">A login that may create databases; the scratch database is made and read through it.</param>
    /// <param name="runtimeConnectionString">The login the workers use, as <c>dbfirst worker</c> would.</param>
    /// <param name="modelDirectory">The model the workers load for their text encoder (never run here): the bundled tiny one.</param>
    /// <param name="log">Progress lines.</param>
    public WorkersBenchmark(string ownerConnectionString, string runtimeConnectionString, string modelDirectory, TextWriter log)
    {
        _ownerConnectionString = ownerConnectionString;
        _runtimeConnectionString = runtimeConnectionString;
        _modelDirectory = modelDirectory;
        _log = log;
    }

    /// <summary>Runs every worker count in <paramref name="workerCounts"/> in turn on one scratch database, dropped afterwards.</summary>
    /// <param name="rows">Rows queued for each worker count.</param>
    /// <param name="workerCounts">Worker processes, e.g. 1, 2, 4.</param>
    /// <param name="idle">How long each idle window lasts.</param>
    /// <param name="claimTimeout">The longest the rows may take to be embedded before the run fails.</param>
    /// <param name="cancellationToken">Stops the run; the processes are killed and the database dropped.</param>
    public async Task<IReadOnlyList<WorkersBenchmarkRow>> RunAsync(
        int rows, IReadOnlyList<int> workerCounts, TimeSpan idle, TimeSpan claimTimeout, CancellationToken cancellationToken = default)
    {
        await using var scratch = await ScratchDatabase.CreateAsync(_ownerConnectionString, "dbfirst_bench", cancellationToken: cancellationToken);
        await using var dataSource = GalleryDataSource.Create(scratch.ConnectionString);
        await using var server = new NpgsqlConnection(scratch.ServerConnectionString);
        await server.OpenAsync(cancellationToken);
        var model = await EmbeddingModelResolver.ResolveAsync(dataSource, new CountingImageEncoder(), cancellationToken);
        var files = Directory.CreateTempSubdirectory("dbfirst-bench-workers-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Gallery"] = new NpgsqlConnectionStringBuilder(_runtimeConnectionString) { Database = scratch.Name }.ConnectionString,
            ["ConnectionStrings__GalleryOwner"] = scratch.ConnectionString,
            ["DOTNET_gcServer"] = "0",
        };
        try
        {
            var results = new List<WorkersBenchmarkRow>();
            foreach (var workers in workerCounts)
            {
                results.Add(await RunOneAsync(workers, rows, idle, claimTimeout, scratch.Name, model.Id, dataSource, server, files, environment, cancellationToken));
            }

            return results;
        }
        finally
        {
            Directory.Delete(files, recursive: true);
        }
    }

    private async Task<WorkersBenchmarkRow> RunOneAsync(
        int workers, int rows, TimeSpan idle, TimeSpan claimTimeout, string database, int modelId, NpgsqlDataSource dataSource,
        NpgsqlConnection server, string files, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        _log.WriteLine($"{workers} worker(s): starting...");
        var processes = Enumerable.Range(0, workers).Select(_ => WorkerHostProcess.Start(environment, _modelDirectory)).ToList();
        try
        {
            await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(StartTimeout, cancellationToken)));

            // One small round first, so the measured pickup is not a fresh process's first job (JIT, first connections).
            var warmUp = await QueueRowsAsync(dataSource, Path.Combine(files, $"warm-up-{workers}"), WarmUpRowsPerWorker * workers, cancellationToken);
            await EnqueueAsync(environment, workers, cancellationToken);
            await WaitEmbeddedAsync(dataSource, warmUp, modelId, StartTimeout, cancellationToken);
            await Task.Delay(WarmUp, cancellationToken);

            _log.WriteLine($"{workers} worker(s): idle for {idle.TotalSeconds:F0} s...");
            var before = await ScalarAsync<long>(server, TransactionsSql, cancellationToken, database);
            await Task.Delay(idle, cancellationToken);
            var transactions = await ScalarAsync<long>(server, TransactionsSql, cancellationToken, database) - before;
            var sessions = await ScalarAsync<int>(server, SessionsSql, cancellationToken, database);

            var ids = await QueueRowsAsync(dataSource, Path.Combine(files, $"workers-{workers}"), rows, cancellationToken);
            _log.WriteLine($"{workers} worker(s): {rows} rows queued, enqueuing embed-pending {workers}×...");
            var enqueuedAt = await DatabaseNowAsync(dataSource, cancellationToken);
            await EnqueueAsync(environment, workers, cancellationToken);
            var doneAt = await WaitEmbeddedAsync(dataSource, ids, modelId, claimTimeout, cancellationToken);
            var load = MachineLoad.OneMinute();
            var (embedded, pickup, claim, failed) = await OutcomeAsync(dataSource, ids, modelId, enqueuedAt, doneAt, cancellationToken);

            _log.WriteLine($"{workers} worker(s): stopping...");
            var reports = await Task.WhenAll(processes.Select(p => p.StopAsync(StopTimeout, cancellationToken)));
            var row = new WorkersBenchmarkRow(
                workers, idle.TotalSeconds, transactions, sessions, rows, pickup, claim, embedded,
                reports.Sum(r => (long)r.EncodedRows) - warmUp.Length, reports.Select(r => r.EncodedRows).ToList(), failed, load);
            _log.WriteLine($"{workers} worker(s): {row.IdleTransactionsPerWorkerSecond:F2} idle transactions/s per worker, {row.ClaimsPerSecond:F0} rows/s, each row once: {row.EachRowOnce}");
            return row;
        }
        finally
        {
            foreach (var process in processes)
            {
                process.Dispose();
            }
        }
    }

    // Through the product's own enqueue (what ingest does), once per worker process so that each can take one.
    private static async Task EnqueueAsync(IReadOnlyDictionary<string, string> environment, int jobs, CancellationToken cancellationToken)
    {
        for (var i = 0; i < jobs; i++)
        {
            await EmbeddingJobQueue.EnqueueAsync(environment["ConnectionStrings__Gallery"], cancellationToken);
        }
    }

    // Small distinct files (the pipeline re-reads each row's file) and their rows, as ingest would leave them.
    private static async Task<long[]> QueueRowsAsync(NpgsqlDataSource dataSource, string folder, int rows, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var paths = new string[rows];
        for (var i = 0; i < rows; i++)
        {
            paths[i] = Path.Combine(folder, $"image-{i:D7}.bin");
            await File.WriteAllTextAsync(paths[i], $"{folder} image {i}", cancellationToken);
        }

        await using var command = dataSource.CreateCommand(InsertSql);
        command.Parameters.Add(new NpgsqlParameter { Value = paths });
        var ids = new List<long>(rows);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids.ToArray();
    }

    private static async Task<DateTime> WaitEmbeddedAsync(
        NpgsqlDataSource dataSource, long[] ids, int modelId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var command = dataSource.CreateCommand(EmbeddedSql);
            command.Parameters.Add(new NpgsqlParameter { Value = ids });
            command.Parameters.Add(new NpgsqlParameter { Value = modelId });
            var embedded = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            if (embedded >= ids.Length)
            {
                return await DatabaseNowAsync(dataSource, cancellationToken);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new GalleryException($"only {embedded} of {ids.Length} rows were embedded within {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(ClaimPoll, cancellationToken);
        }
    }

    private static async Task<(long Embedded, double Pickup, double Claim, long Failed)> OutcomeAsync(
        NpgsqlDataSource dataSource, long[] ids, int modelId, DateTime enqueuedAt, DateTime doneAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(OutcomeSql);
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        command.Parameters.Add(new NpgsqlParameter { Value = modelId });
        command.Parameters.Add(new NpgsqlParameter { Value = enqueuedAt, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = doneAt, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), (double)reader.GetDecimal(1), (double)reader.GetDecimal(2), reader.GetInt64(3));
    }

    // The database's clock, which also stamps embedded_at, so the intervals need no clock agreement.
    private static async Task<DateTime> DatabaseNowAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT clock_timestamp()");
        return (DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, string argument)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = argument });
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
