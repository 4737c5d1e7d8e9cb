using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// <c>dbfirst bench search</c>: loads a synthetic set of embeddings (<see cref="SearchVectorSet"/>) into a scratch
/// database and measures, per configuration (<see cref="SearchConfigurations"/>): index build time, the build's peak
/// memory and <c>maintenance_work_mem</c>, index size, recall@k and latency; then filtered search, stored
/// neighbours and <c>gallery.search</c> through the index in place.
/// </summary>
/// <remarks>
/// Query vectors are drawn from the same set but never loaded, so they are held out from the data
/// and from the tuner's own (perturbed, leave-one-out) query set.
/// </remarks>
public sealed class SearchBenchmark
{
    // Folders of the loaded rows (c000 … c099): one holds 1% of them, for the filtered searches.
    private const int Folders = 100;

    private const string ScratchPrefix = "dbfirst_bench";

    // Sequential scans timed for the exact-scan row: each reads the whole table (1.6 s at 10^6 rows).
    private const int ExactScansTimed = 40;

    private readonly string _serverConnectionString;
    private readonly TextWriter _log;

    /// <summary>Creates a benchmark that makes its scratch database on the server of <paramref name="serverConnectionString"/>.</summary>
    public SearchBenchmark(string serverConnectionString, TextWriter log)
    {
        _serverConnectionString = serverConnectionString;
        _log = log;
    }

    /// <summary>Runs every default configuration on the mixture set; returns the rows and writes a report to <paramref name="reportPath"/>.</summary>
    /// <param name="rows">Vectors to load (100,000 for the issue's figures).</param>
    /// <param name="queries">Held-out query vectors.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="targetRecall">What the tuner aims for.</param>
    /// <param name="embedUrl">A running <c>/embed/text</c> endpoint for the <c>gallery.search</c> figures, or null to skip them.</param>
    /// <param name="embedder">The encoder behind <paramref name="embedUrl"/>, timed alone for comparison.</param>
    /// <param name="reportPath">Markdown report to write.</param>
    /// <param name="keep">Keep the scratch database afterwards (its name is logged) instead of dropping it.</param>
    /// <param name="cancellationToken">Stops the run; the scratch database is dropped either way.</param>
    public Task<IReadOnlyList<SearchBenchmarkRow>> RunAsync(
        int rows, int queries, int k, double targetRecall, string? embedUrl, ITextEmbedder? embedder, string reportPath, bool keep = false, CancellationToken cancellationToken = default) =>
        RunAsync(new SearchBenchmarkOptions(rows, queries, k, targetRecall, "mixture", null, reportPath, keep), embedUrl, embedder, cancellationToken);

    /// <summary>Runs the configurations <paramref name="options"/> names; returns the rows and writes the report.</summary>
    /// <param name="options">Set, size, configurations and report path.</param>
    /// <param name="embedUrl">A running <c>/embed/text</c> endpoint for the <c>gallery.search</c> figures, or null to skip them.</param>
    /// <param name="embedder">The encoder behind <paramref name="embedUrl"/>, timed alone for comparison.</param>
    /// <param name="cancellationToken">Stops the run; the scratch database is dropped either way.</param>
    /// <exception cref="GalleryException">An unknown set or configuration.</exception>
    public async Task<IReadOnlyList<SearchBenchmarkRow>> RunAsync(
        SearchBenchmarkOptions options, string? embedUrl, ITextEmbedder? embedder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (rows, queries, k) = (options.Rows, options.Queries, options.K);
        var set = SearchVectorSet.Parse(options.Set, rows, options.Spread, options.Centres);
        var configs = SearchConfigurations.Parse(options.Configs);
        await using var scratch = options.Reuse is { } reuse
            ? ScratchDatabase.Attach(_serverConnectionString, reuse, ScratchPrefix)
            : await ScratchDatabase.CreateAsync(_serverConnectionString, ScratchPrefix, cancellationToken: cancellationToken);
        scratch.Keep |= options.Keep;
        // Index builds and exact scans over many rows outlast Npgsql's default 30 s command timeout.
        var connectionString = new NpgsqlConnectionStringBuilder(scratch.ConnectionString) { CommandTimeout = 0 }.ConnectionString;
        try
        {
            await using var dataSource = GalleryDataSource.Create(connectionString);
            var results = new List<SearchBenchmarkRow>();
            var notes = new List<string>();

            _log.WriteLine($"generating {rows:N0} + {queries} vectors ({SearchVectorSet.Dimensions}-d, {set.Description})");
            var all = set.Generate(rows + queries);
            var data = all.Take(rows).ToArray();
            var probes = all.Skip(rows).ToArray();
            all = null;
            var watch = Stopwatch.StartNew();
            if (options.Reuse is null)
            {
                // Into the fresh gallery's new model, without its HNSW index: each configuration below builds its own.
                await SyntheticGallery.LoadAsync(dataSource, data, Folders, buildIndexes: false, cancellationToken: cancellationToken);
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"load: binary COPY of {rows:N0} rows: {watch.Elapsed.TotalSeconds:F1} s ({rows / watch.Elapsed.TotalSeconds:N0} rows/s)"));
                await ExecuteAsync(dataSource, "VACUUM ANALYZE gallery.image_gallery", cancellationToken);
                await ExecuteAsync(dataSource, "VACUUM ANALYZE gallery.image_embeddings_m1", cancellationToken);
            }
            else
            {
                // The same seed made the same vectors, so the probes above are held out from the kept rows too.
                var loaded = await ScalarAsync<long>(dataSource, "SELECT count(*) FROM gallery.image_embeddings_m1", cancellationToken);
                if (loaded != rows)
                {
                    throw new GalleryException($"{scratch.Name} holds {loaded:N0} rows, not the {rows:N0} of --rows: reuse it with the --rows and --set of the run that kept it");
                }

                notes.Add($"reused {scratch.Name}: its {rows:N0} rows, loaded by an earlier run, and its index as that run left it");
            }

            data = null;
            _log.WriteLine(notes[^1]);

            var exact = await ExactAsync(dataSource, probes, k, configs.Contains(SearchConfigurations.Exact) ? ExactScansTimed : 0, cancellationToken);
            if (configs.Contains(SearchConfigurations.Exact))
            {
                Add(results, new SearchBenchmarkRow("exact scan", $"sequential scan ({ExactScansTimed} queries timed)", 1.0, exact.P50, exact.P95, null));
            }

            // The report is rewritten after each configuration, so a long run stopped part-way keeps what it measured.
            Task SaveAsync() => WriteReportAsync(options, set, results, notes, cancellationToken);
            await SaveAsync();
            var manager = new VectorIndexManager(dataSource);
            var tuner = new IndexTuner(dataSource);
            if (configs.Contains(SearchConfigurations.SeedIvfflat))
            {
                // The seed article: IVFFlat with lists = 100 and pgvector's default probes = 1.
                await using var sampler = await BuildMemorySampler.StartAsync(dataSource, cancellationToken);
                watch.Restart();
                await ExecuteAsync(dataSource, "CREATE INDEX image_embeddings_m1_embedding_idx ON gallery.image_embeddings_m1 USING ivfflat ((embedding::vector(512)) vector_cosine_ops) WITH (lists = 100)", cancellationToken);
                var seedBuild = watch.Elapsed.TotalSeconds;
                var peak = await sampler.StopAsync();
                var size = await ScalarAsync<long>(dataSource, "SELECT pg_relation_size('gallery.image_embeddings_m1_embedding_idx')", cancellationToken);
                var memory = await ScalarAsync<string>(dataSource, "SELECT pg_size_bytes(current_setting('maintenance_work_mem'))::text", cancellationToken);
                var seed = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
                Add(results, new SearchBenchmarkRow("seed: IVFFlat, default lists, default probes", "lists = 100; ivfflat.probes = 1", seed.Recall, seed.P50, seed.P95, seedBuild,
                    size, peak, long.Parse(memory, CultureInfo.InvariantCulture)));
                await SaveAsync();
            }

            var tune = new TuneOptions(options.TargetRecall, 100, k);
            if (configs.Contains(SearchConfigurations.Ivfflat))
            {
                var (ivf, plan, peak) = await BuildAsync(dataSource, manager, new IndexBuildOptions(VectorIndexManager.Ivfflat), cancellationToken);
                var ivfTune = await tuner.TuneAsync(tune, _log, cancellationToken: cancellationToken);
                var tunedIvf = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
                Add(results, new SearchBenchmarkRow("tuned IVFFlat", $"{ivf.Parameters}; ivfflat.probes = {ivfTune.Chosen.Value}", tunedIvf.Recall, tunedIvf.P50, tunedIvf.P95, ivf.BuildSeconds,
                    ivf.SizeBytes, peak, plan.MaintenanceWorkMemBytes));
                await SaveAsync();
            }

            if (configs.Contains(SearchConfigurations.HnswDefault) || configs.Contains(SearchConfigurations.Hnsw) || configs.Contains(SearchConfigurations.HnswBuild))
            {
                var (hnsw, plan, peak) = await InPlaceAsync(dataSource, manager, options, configs.Contains(SearchConfigurations.HnswDefault), cancellationToken)
                    ?? await BuildAsync(dataSource, manager, new IndexBuildOptions(VectorIndexManager.Hnsw), cancellationToken);
                TuneReport? hnswTune = null;
                if (configs.Contains(SearchConfigurations.HnswDefault))
                {
                    foreach (var efSearch in new[] { 40, 160 })
                    {
                        await SetAsync(dataSource, "hnsw.ef_search", efSearch, cancellationToken);
                        var measured = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
                        Add(results, new SearchBenchmarkRow("default HNSW", $"{hnsw.Parameters}; hnsw.ef_search = {efSearch}", measured.Recall, measured.P50, measured.P95, hnsw.BuildSeconds,
                            hnsw.SizeBytes, peak, plan.MaintenanceWorkMemBytes));
                        await SaveAsync();
                    }
                }

                if (configs.Contains(SearchConfigurations.Hnsw) || configs.Contains(SearchConfigurations.HnswBuild))
                {
                    hnswTune = await tuner.TuneAsync(tune, _log, cancellationToken: cancellationToken);
                    var tunedHnsw = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
                    Add(results, new SearchBenchmarkRow("tuned HNSW", $"{hnsw.Parameters}; hnsw.ef_search = {hnswTune.Chosen.Value}{(hnswTune.ReachedTarget ? "" : " (target not reached)")}",
                        tunedHnsw.Recall, tunedHnsw.P50, tunedHnsw.P95, hnsw.BuildSeconds, hnsw.SizeBytes, peak, plan.MaintenanceWorkMemBytes));
                    await SaveAsync();
                }

                if (hnswTune is not null && (configs.Contains(SearchConfigurations.Half) || configs.Contains(SearchConfigurations.Binary)))
                {
                    var quantized = await new QuantizedIndexBenchmark(dataSource, SearchVectorSet.Dimensions, _log).RunAsync(
                        probes, exact.KthDistances, k, hnsw, hnswTune.Chosen.Value, configs.Contains(SearchConfigurations.Half), configs.Contains(SearchConfigurations.Binary), cancellationToken);
                    results.AddRange(quantized.Rows);
                    notes.AddRange(quantized.Notes);
                    await SaveAsync();
                }

                if (configs.Contains(SearchConfigurations.HnswBuild))
                {
                    await BuildParametersAsync(dataSource, tune, hnswTune, options, probes, exact.KthDistances, results, notes, cancellationToken);
                    await SaveAsync();
                }
            }

            if (configs.Contains(SearchConfigurations.Filtered))
            {
                results.AddRange(await FilteredAsync(dataSource, probes.Take(Math.Min(100, probes.Length)).ToArray(), rows, cancellationToken));
                foreach (var row in results.TakeLast(4))
                {
                    Report(row);
                }

                await SaveAsync();
            }

            if (configs.Contains(SearchConfigurations.Duplicates))
            {
                var duplicates = await new NeighbourBenchmark(dataSource, _log).RunAsync(probes, options.FillNeighbours, cancellationToken);
                foreach (var row in duplicates.Rows)
                {
                    Add(results, row);
                }

                notes.AddRange(duplicates.Notes);
                await SaveAsync();
            }

            if (configs.Contains(SearchConfigurations.Text) && embedUrl is not null && embedder is not null)
            {
                results.AddRange(await TextSearchAsync(dataSource, embedUrl, embedder, Math.Min(queries, 100), k, cancellationToken));
            }

            await SaveAsync();
            return results;
        }
        finally
        {
            if (options.Keep)
            {
                _log.WriteLine($"kept the scratch database {scratch.Name}");
            }
        }
    }

    // index tune choosing build parameters: the trade-off table it chose from goes into the notes, the rebuilt
    // index's figures into the rows.
    private async Task BuildParametersAsync(
        NpgsqlDataSource dataSource, TuneOptions tune, TuneReport? current, SearchBenchmarkOptions options, float[][] probes, float[] kth,
        List<SearchBenchmarkRow> results, List<string> notes, CancellationToken cancellationToken)
    {
        await using var sampler = await BuildMemorySampler.StartAsync(dataSource, cancellationToken);
        var report = await new BuildParameterTuner(dataSource).TuneAsync(tune with { Store = options.Rebuild }, new BuildTuneOptions(options.TuneSample, MaxBuildMinutes: options.MaxBuildMinutes), current, _log, cancellationToken);
        var peak = await sampler.StopAsync();
        var chosen = report.Chosen;
        if (report.Build is { } build && report.Search is { } search && report.Plan is { } plan)
        {
            var measured = await MeasureAsync(dataSource, probes, kth, options.K, cancellationToken);
            Add(results, new SearchBenchmarkRow(
                "HNSW, build parameters tuned", $"{build.Parameters}; hnsw.ef_search = {search.Chosen.Value}{(search.ReachedTarget ? "" : " (target not reached)")}",
                measured.Recall, measured.P50, measured.P95, build.BuildSeconds, build.SizeBytes, peak, plan.MaintenanceWorkMemBytes));
        }
        else
        {
            // Not rebuilt: the chosen pair is the index in place (its tune above stands), or --no-rebuild.
            var why = options.Rebuild ? "the index in place: not rebuilt" : "not built (--no-rebuild)";
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"build parameters chosen: m = {chosen.M}, ef_construction = {chosen.EfConstruction}, ef_search {(chosen.EfSearch is { } ef ? ef.ToString(CultureInfo.InvariantCulture) : "not reached")}, predicted recall@{options.K} {chosen.PredictedRecall:F4}; {why}{(chosen.FullPlan is { } full ? "; full build: " + string.Join("; ", full.Describe().Skip(1)) : "")}"));
            _log.WriteLine(notes[^1]);
        }

        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"index tune with build parameters: {report.SampleRows:N0} sampled rows, {report.SampleQueries} held-out sample rows as queries, full-size/sample miss ratio {report.MissRatio:F2}; candidates (peak memory above covers the sample builds and the rebuild):"));
        foreach (var candidate in report.Candidates)
        {
            notes.Add("  " + candidate.Describe() + (candidate == report.Chosen ? "  <- chosen" : ""));
        }

        foreach (var skipped in report.OverBudget)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {skipped.Parameters}: not tried, full build ~{(skipped.EstimatedSeconds is { } s ? BuildPlan.FormatDuration(s) : "?")} over the {options.MaxBuildMinutes}-minute budget (--max-build-minutes)"));
        }
    }

    // With --reuse, the valid HNSW index an earlier run built, as its build was recorded (its peak memory was not);
    // the hnsw-default rows need pgvector's default parameters, so another index is built again for them.
    private async Task<(IndexBuild Build, BuildPlan Plan, long? PeakBytes)?> InPlaceAsync(
        NpgsqlDataSource dataSource, VectorIndexManager manager, SearchBenchmarkOptions options, bool needDefault, CancellationToken cancellationToken)
    {
        if (options.Reuse is null)
        {
            return null;
        }

        var status = await manager.GetStatusAsync(cancellationToken: cancellationToken);
        if (status is not { IsValid: true, Method: VectorIndexManager.Hnsw, LastBuild: { } build }
            || (needDefault && build.Parameters != new HnswParameters()))
        {
            return null;
        }

        _log.WriteLine($"reusing the index in place: {build.Parameters}, built in {build.BuildSeconds:F0} s, {ByteSize.Format(build.SizeBytes)}");
        var plan = await manager.PlanAsync(IndexBuildOptions.Recreating(build.Parameters, build.RowCount, build.Precision), cancellationToken: cancellationToken);
        return (build, plan, null);
    }

    private async Task<(IndexBuild Build, BuildPlan Plan, long? PeakBytes)> BuildAsync(
        NpgsqlDataSource dataSource, VectorIndexManager manager, IndexBuildOptions options, CancellationToken cancellationToken)
    {
        var plan = await manager.PlanAsync(options, cancellationToken: cancellationToken);
        await using var sampler = await BuildMemorySampler.StartAsync(dataSource, cancellationToken);
        var build = await manager.RebuildAsync(options, _log, cancellationToken: cancellationToken);
        var peak = await sampler.StopAsync();
        _log.WriteLine($"peak build memory {(peak is { } p ? ByteSize.Format(p) : "unknown (/proc not readable)")}, maintenance_work_mem {ByteSize.Format(plan.MaintenanceWorkMemBytes)}");
        return (build, plan, peak);
    }

    // A folder and a date range each holding 1% of the rows, k = 10 and 100: how many rows come back, how fast.
    private static async Task<IEnumerable<SearchBenchmarkRow>> FilteredAsync(NpgsqlDataSource dataSource, float[][] probes, int rows, CancellationToken cancellationToken)
    {
        var first = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var from = first.AddMinutes(rows / 2);
        var to = from.AddMinutes(rows / 100);
        var folder = "/synthetic/c042";
        var results = new List<SearchBenchmarkRow>();
        foreach (var k in new[] { 10, 100 })
        {
            results.Add(await FilteredAsync(dataSource, probes, k, $"folder {folder} (1%), k = {k}", folder, null, null, cancellationToken));
            results.Add(await FilteredAsync(dataSource, probes, k, $"taken_at in {rows / 100:N0} minutes (1%), k = {k}", null, from, to, cancellationToken));
        }

        return results;
    }

    private static async Task<SearchBenchmarkRow> FilteredAsync(
        NpgsqlDataSource dataSource, float[][] probes, int k, string setting, string? folder, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM gallery.search_by_embedding($1, $2, $3, $4, $5)", connection) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(probes[0]) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)folder ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        var latencies = new List<double>();
        var returned = new List<long>();
        // One warm-up pass, as for the unfiltered searches.
        for (var pass = 0; pass < 2; pass++)
        {
            latencies.Clear();
            returned.Clear();
            foreach (var probe in probes)
            {
                command.Parameters[0].Value = new Vector(probe);
                var watch = Stopwatch.StartNew();
                returned.Add((long)(await command.ExecuteScalarAsync(cancellationToken))!);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        var name = string.Create(CultureInfo.InvariantCulture, $"filtered search: {returned.Count(r => r == k)} of {returned.Count} returned k rows (fewest {returned.Min()})");
        return new SearchBenchmarkRow(name, setting, double.NaN, IndexTuner.Percentile(latencies, 0.5), IndexTuner.Percentile(latencies, 0.95), null, Rows: returned.Average());
    }

    private void Add(List<SearchBenchmarkRow> results, SearchBenchmarkRow row)
    {
        results.Add(row);
        Report(row);
    }

    private static async Task SetAsync(NpgsqlDataSource dataSource, string key, int value, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO gallery.settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = value.ToString(CultureInfo.InvariantCulture) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<IEnumerable<SearchBenchmarkRow>> TextSearchAsync(NpgsqlDataSource dataSource, string embedUrl, ITextEmbedder embedder, int count, int k, CancellationToken cancellationToken)
    {
        await using (var set = dataSource.CreateCommand("UPDATE gallery.settings SET value = $1 WHERE key = 'embed_url'"))
        {
            set.Parameters.Add(new NpgsqlParameter { Value = embedUrl });
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        // The encoder host signs with the key of the database the benchmark was started on: the scratch copy shares it.
        byte[] key;
        await using (var server = new NpgsqlConnection(_serverConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            await using var read = new NpgsqlCommand("SELECT key FROM gallery.encoder_key", server);
            key = (byte[])(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        await using (var share = dataSource.CreateCommand("UPDATE gallery.encoder_key SET key = $1"))
        {
            share.Parameters.Add(new NpgsqlParameter { Value = key });
            await share.ExecuteNonQueryAsync(cancellationToken);
        }

        var texts = Enumerable.Range(0, count).Select(i => $"benchmark photo number {i} of a {Colours[i % Colours.Length]} scene").ToArray();
        var encoder = new List<double>();
        foreach (var text in texts.Select(t => t + " (encoder only)"))
        {
            var watch = Stopwatch.StartNew();
            embedder.Embed(text);
            encoder.Add(watch.Elapsed.TotalMilliseconds);
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT id FROM gallery.search($1, $2)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = texts[0] });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        async Task<List<double>> TimeAllAsync()
        {
            var latencies = new List<double>();
            foreach (var text in texts)
            {
                command.Parameters[0].Value = text;
                var watch = Stopwatch.StartNew();
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                    }
                }

                latencies.Add(watch.Elapsed.TotalMilliseconds);
            }

            return latencies;
        }

        var cold = await TimeAllAsync();
        var cached = await TimeAllAsync();
        var rows = new[]
        {
            new SearchBenchmarkRow("text encoder alone (in-process)", embedder.Model, double.NaN, IndexTuner.Percentile(encoder, 0.5), IndexTuner.Percentile(encoder, 0.95), null),
            new SearchBenchmarkRow("gallery.search, new text (HTTP to encoder + cache insert + search)", embedder.Model, double.NaN, IndexTuner.Percentile(cold, 0.5), IndexTuner.Percentile(cold, 0.95), null),
            new SearchBenchmarkRow("gallery.search, cached text", embedder.Model, double.NaN, IndexTuner.Percentile(cached, 0.5), IndexTuner.Percentile(cached, 0.95), null),
        };
        foreach (var row in rows)
        {
            Report(row);
        }

        return rows;
    }

    private static readonly string[] Colours = ["red", "green", "blue", "yellow", "purple", "orange", "white", "black"];

    // The k-th exact distance of every probe from one pass over the partition; with `timed`, the exact-scan row's
    // latency from some of them by sequential scan, each reading the whole partition.
    private async Task<(float[] KthDistances, double P50, double P95)> ExactAsync(NpgsqlDataSource dataSource, float[][] probes, int k, int timed, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var watch = Stopwatch.StartNew();
        var exact = await ExactNeighbourScan.FindAsync(connection, "SELECT image_id, embedding FROM gallery.image_embeddings_m1", [], probes, k, cancellationToken: cancellationToken);
        var kth = exact.Select(found => found.Length == 0 ? float.PositiveInfinity : found[^1].Distance).ToArray();
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"exact answers for {probes.Length} held-out queries in one pass: {watch.Elapsed.TotalSeconds:F1} s"));
        if (timed == 0)
        {
            return (kth, double.NaN, double.NaN);
        }

        _log.WriteLine($"exact scan latency from {Math.Min(timed, probes.Length)} queries by sequential scan");
        var latencies = await ExactNeighbourScan.TimeSequentialScansAsync(
            connection, "SELECT image_id FROM gallery.image_embeddings_m1 ORDER BY embedding <=> $1 LIMIT $2", [], probes.Take(timed), k, cancellationToken);
        return (kth, IndexTuner.Percentile(latencies, 0.5), IndexTuner.Percentile(latencies, 0.95));
    }

    // Through gallery.search_by_embedding, as users search; one warm-up pass first so every
    // configuration is measured with the index in shared buffers.
    private static async Task<(double Recall, double P50, double P95)> MeasureAsync(NpgsqlDataSource dataSource, float[][] probes, float[] kth, int k, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT distance FROM gallery.search_by_embedding($1, $2)", connection) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(probes[0]) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        var latencies = new List<double>();
        var recalls = new List<double>();
        for (var pass = 0; pass < 2; pass++)
        {
            latencies.Clear();
            recalls.Clear();
            for (var i = 0; i < probes.Length; i++)
            {
                command.Parameters[0].Value = new Vector(probes[i]);
                var watch = Stopwatch.StartNew();
                var found = 0;
                await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        if (reader.GetFloat(0) <= kth[i] + ExactNeighbourScan.Tolerance)
                        {
                            found++;
                        }
                    }
                }

                latencies.Add(watch.Elapsed.TotalMilliseconds);
                recalls.Add(Math.Min(1.0, found / (double)k));
            }
        }

        return (recalls.Average(), IndexTuner.Percentile(latencies, 0.5), IndexTuner.Percentile(latencies, 0.95));
    }

    private void Report(SearchBenchmarkRow row) =>
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{row.Name}: {row.Setting}: recall {(double.IsNaN(row.Recall) ? "-" : row.Recall.ToString("F4", CultureInfo.InvariantCulture))}, p50 {row.P50Ms:F2} ms, p95 {row.P95Ms:F2} ms{(row.BuildSeconds is { } b ? $", build {b:F1} s" : "")}{(row.IndexBytes is { } size ? $", index {ByteSize.Format(size)}" : "")}"));

    private static async Task WriteReportAsync(SearchBenchmarkOptions options, SearchVectorSet set, List<SearchBenchmarkRow> results, List<string> notes, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        string Bytes(long? value) => value is { } v ? ByteSize.Format(v) : "";
        var text = new StringBuilder();
        text.AppendLine(c, $"# dbfirst bench search, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z")
            .AppendLine()
            .AppendLine(c, $"{options.Rows:N0} synthetic {SearchVectorSet.Dimensions}-d vectors (set `{set.Name}`: {set.Description}), {options.Queries} held-out query vectors from the same set, recall@{options.K}, tuner target {options.TargetRecall:F2}.")
            .AppendLine(c, $"Machine: {Environment.ProcessorCount} logical CPUs, PostgreSQL on the same machine; latency is client-measured wall time of one `SELECT` through the search function.")
            .AppendLine("Peak build memory: the building server processes' private memory plus the dynamic shared memory they map, sampled from /proc every 250 ms (shared buffers not counted).")
            .AppendLine()
            .AppendLine("| configuration | setting | recall@10 | p50 ms | p95 ms | build s | index size | peak build memory | maintenance_work_mem |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in results)
        {
            text.AppendLine(c,
                $"| {row.Name} | {row.Setting} | {(double.IsNaN(row.Recall) ? "" : row.Recall.ToString("F4", c))} | {row.P50Ms:F2} | {row.P95Ms:F2} | {(row.BuildSeconds is { } b ? b.ToString("F1", c) : "")} | {Bytes(row.IndexBytes)} | {Bytes(row.PeakBuildBytes)} | {Bytes(row.MaintenanceWorkMemBytes)} |");
        }

        text.AppendLine();
        foreach (var note in notes)
        {
            text.AppendLine(c, $"- {note}");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(options.ReportPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(options.ReportPath, text.ToString(), cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
