using System.Text.Json;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// <c>dbfirst bench backfill</c>: a second model's backfill while the first serves searches, as a DBA runs it. In a
/// scratch database: model A embeds every image (a real <c>dbfirst embed</c> process, which registers it active) and
/// its neighbours are stored; the search loop runs alone for a while; then <c>dbfirst model stage B</c> and a second
/// <c>dbfirst embed</c> process backfill B while the same loop runs, checking that every row it gets back is A's.
/// </summary>
internal sealed class BackfillBenchmark(string serverConnectionString, Action<string> log)
{
    private const int K = 10;

    // Bounds a stuck child; a few hundred images take minutes even for a ViT-B/32 on two cores.
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromMinutes(30);

    private static readonly string[] Texts =
    [
        "a dog on the beach", "birthday cake with candles", "snowy mountain at sunset", "a red bicycle",
        "grandpa holding a cabinet", "city street at night", "children playing football", "a bowl of fruit",
    ];

    /// <summary>Runs the benchmark over <paramref name="photos"/> with <paramref name="activeModel"/> active and <paramref name="stagedModel"/> staged.</summary>
    /// <exception cref="GalleryException">A step of the runner failed (its stderr is in the line), or the models are the same.</exception>
    public async Task<BackfillBenchmarkResult> RunAsync(
        string activeModel, string stagedModel, IReadOnlyList<string> photos, TimeSpan before, CancellationToken cancellationToken = default)
    {
        await using var scratch = await ScratchDatabase.CreateAsync(serverConnectionString, "dbfirst_bench", cancellationToken: cancellationToken);
        await using var dataSource = GalleryDataSource.Create(scratch.ConnectionString);
        await using (var insert = dataSource.CreateCommand("INSERT INTO gallery.image_gallery (path) SELECT unnest($1::text[])"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = photos.ToArray() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        log($"embedding {photos.Count} images with {activeModel} (dbfirst embed, no searches running)...");
        var first = await RunnerAsync(scratch.ConnectionString, cancellationToken, "embed", "--model", activeModel, "--json");
        var firstSummary = JsonDocument.Parse(first.Out).RootElement;
        var (activeId, activeName, dimension) = await ActiveModelAsync(dataSource, cancellationToken);
        await FillNeighboursAsync(dataSource, cancellationToken);
        var probes = await ProbesAsync(dataSource, activeId, cancellationToken);
        var texts = await CacheTextsAsync(dataSource, activeModel, activeName, cancellationToken);
        var loop = new BackfillSearchLoop(dataSource, activeId, probes, texts, K);

        var loadBefore = MachineLoad.OneMinute();
        log($"searching for {before.TotalSeconds:F0} s before the stage...");
        using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timer.CancelAfter(before);
            var beforeLoop = await loop.RunAsync(timer.Token);
            cancellationToken.ThrowIfCancellationRequested();

            log($"staging {stagedModel}...");
            await RunnerAsync(scratch.ConnectionString, cancellationToken, "model", "stage", stagedModel);
            var stagedName = await ScalarAsync<string>(dataSource, "SELECT name FROM gallery.clip_models WHERE state = 'staged'", cancellationToken);
            if (stagedName == activeName)
            {
                throw new GalleryException($"both models are named {activeName}; export the staged one with another seed");
            }

            log($"backfilling {stagedName} (dbfirst embed) while the searches run...");
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var duringTask = Task.Run(() => loop.RunAsync(stop.Token), CancellationToken.None);
            RunnerProcess.Outcome backfill;
            try
            {
                backfill = await RunnerAsync(scratch.ConnectionString, cancellationToken, "embed", "--model", activeModel, "--json");
            }
            finally
            {
                await stop.CancelAsync();
            }

            var duringLoop = await duringTask;
            var staged = JsonDocument.Parse(backfill.Out).RootElement.GetProperty("staged");
            var coverage = await ScalarAsync<string>(dataSource,
                "SELECT string_agg(name || ' ' || state || ' ' || embedded || '/' || total, ', ' ORDER BY model_id) FROM gallery.model_coverage()", cancellationToken);
            return new BackfillBenchmarkResult(
                DateTimeOffset.UtcNow, Environment.ProcessorCount, photos.Count, activeName, stagedName, dimension,
                firstSummary.GetProperty("images_per_s").GetDouble(), first.PeakRssBytes,
                staged.GetProperty("embedded").GetInt32(), staged.GetProperty("images_per_s").GetDouble(), backfill.Elapsed.TotalSeconds, backfill.PeakRssBytes,
                coverage,
                [.. BackfillSearchLoop.Kinds.Select(kind => Row(kind, beforeLoop.LatenciesMs[kind], duringLoop.LatenciesMs[kind]))],
                beforeLoop.RowsReturned + duringLoop.RowsReturned, beforeLoop.ForeignRows + duringLoop.ForeignRows,
                beforeLoop.Errors + duringLoop.Errors, [.. beforeLoop.ErrorSamples, .. duringLoop.ErrorSamples],
                $"{MachineLoad.Format(loadBefore)} / {MachineLoad.Format(MachineLoad.OneMinute())}");
        }
    }

    private static BackfillSearchRow Row(string kind, List<double> before, List<double> during) => new(
        kind,
        before.Count, Percentile(before, 0.5), Percentile(before, 0.95),
        during.Count, Percentile(during, 0.5), Percentile(during, 0.95));

    private static double Percentile(List<double> values, double fraction) => values.Count == 0 ? double.NaN : IndexTuner.Percentile(values, fraction);

    private async Task<RunnerProcess.Outcome> RunnerAsync(string connectionString, CancellationToken cancellationToken, params string[] args)
    {
        var outcome = await RunnerProcess.RunAsync(connectionString, ProcessTimeout, args, cancellationToken);
        if (outcome.ExitCode != 0)
        {
            var why = outcome.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "(no message)";
            throw new GalleryException($"dbfirst {string.Join(' ', args.Take(2))} exited with {outcome.ExitCode}: {why}");
        }

        log($"dbfirst {string.Join(' ', args.Take(2))}: {outcome.Elapsed.TotalSeconds:F1} s, peak RSS {outcome.PeakRssBytes / 1048576.0:F0} MB");
        return outcome;
    }

    private static async Task<(int Id, string Name, int Dimension)> ActiveModelAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT c.model_id, c.name, c.dimension, c.embedded, c.total, c.index_name
            FROM gallery.model_coverage() c WHERE c.state = 'active'
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new GalleryException("dbfirst embed registered no active model");
        }

        if (reader.GetInt64(3) != reader.GetInt64(4) || reader.IsDBNull(5))
        {
            throw new GalleryException($"the active model should have every image embedded and an index: {reader.GetInt64(3)}/{reader.GetInt64(4)}, index {(reader.IsDBNull(5) ? "none" : reader.GetString(5))}");
        }

        return (reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2));
    }

    // near_duplicates reads stored neighbours, which serve's job fills after an embed; here the benchmark does it.
    private static async Task FillNeighboursAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        while (await ScalarAsync<int>(dataSource, "SELECT gallery.fill_neighbours()", cancellationToken) > 0)
        {
        }
    }

    private static async Task<IReadOnlyList<long>> ProbesAsync(NpgsqlDataSource dataSource, int modelId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT image_id FROM gallery.image_embeddings WHERE model_id = $1 ORDER BY image_id");
        command.Parameters.Add(new NpgsqlParameter { Value = modelId });
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids;
    }

    // gallery.search with cached texts: the active model's own text encoder fills the cache, as serve would on a first search.
    private static async Task<IReadOnlyList<(string Text, float[] Vector)>> CacheTextsAsync(
        NpgsqlDataSource dataSource, string modelDirectory, string modelName, CancellationToken cancellationToken)
    {
        using var model = ClipModel.Load(modelDirectory);
        var texts = Texts.Select(text => (text, model.TextEncoder.Encode(text))).ToList();
        foreach (var (text, vector) in texts)
        {
            await using var insert = dataSource.CreateCommand("INSERT INTO gallery.text_embeddings (model, query, embedding) VALUES ($1, $2, $3)");
            insert.Parameters.Add(new NpgsqlParameter { Value = modelName });
            insert.Parameters.Add(new NpgsqlParameter { Value = text });
            insert.Parameters.Add(new NpgsqlParameter { Value = new Vector(vector) });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return texts;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
