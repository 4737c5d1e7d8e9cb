using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// <c>dbfirst bench search</c>: loads clustered synthetic embeddings into a scratch database and measures
/// recall@k and latency of the exact scan, the seed article's IVFFlat set-up (lists = 100, probes = 1),
/// tuned IVFFlat and tuned HNSW, index build times, and <c>gallery.search</c> with new and cached text.
/// </summary>
/// <remarks>
/// Query vectors are drawn from the same mixture but never loaded, so they are held out from the data
/// and from the tuner's own (perturbed, leave-one-out) query set.
/// </remarks>
public sealed class SearchBenchmark
{
    private readonly string _serverConnectionString;
    private readonly TextWriter _log;

    /// <summary>Creates a benchmark that makes its scratch database on the server of <paramref name="serverConnectionString"/>.</summary>
    public SearchBenchmark(string serverConnectionString, TextWriter log)
    {
        _serverConnectionString = serverConnectionString;
        _log = log;
    }

    /// <summary>Runs everything; returns the rows and writes a report to <paramref name="reportPath"/>.</summary>
    /// <param name="rows">Vectors to load (100,000 for the issue's figures).</param>
    /// <param name="queries">Held-out query vectors.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="targetRecall">What the tuner aims for.</param>
    /// <param name="embedUrl">A running <c>/embed/text</c> endpoint for the <c>gallery.search</c> figures, or null to skip them.</param>
    /// <param name="embedder">The encoder behind <paramref name="embedUrl"/>, timed alone for comparison.</param>
    /// <param name="reportPath">Markdown report to write.</param>
    /// <param name="cancellationToken">Stops the run; the scratch database is dropped either way.</param>
    /// <param name="keep">Keep the scratch database afterwards (its name is logged) instead of dropping it.</param>
    public async Task<IReadOnlyList<SearchBenchmarkRow>> RunAsync(
        int rows, int queries, int k, double targetRecall, string? embedUrl, ITextEmbedder? embedder, string reportPath, bool keep = false, CancellationToken cancellationToken = default)
    {
        const int Dimensions = 512;
        // Many small overlapping groups, as photo galleries have (events, bursts); not one per IVFFlat list.
        var clusters = Math.Max(10, rows / 50);
        await using var scratch = await ScratchDatabase.CreateAsync(_serverConnectionString, "dbfirst_bench", cancellationToken: cancellationToken);
        scratch.Keep = keep;
        // Index builds and exact scans over many rows outlast Npgsql's default 30 s command timeout.
        var connectionString = new NpgsqlConnectionStringBuilder(scratch.ConnectionString) { CommandTimeout = 0 }.ConnectionString;
        try
        {
            await using var dataSource = GalleryDataSource.Create(connectionString);
            var results = new List<SearchBenchmarkRow>();
            var notes = new List<string>();

            _log.WriteLine($"generating {rows:N0} + {queries} vectors ({Dimensions}-d, Gaussian mixture of {clusters} clusters)");
            var all = SyntheticGallery.GaussianMixture(rows + queries, Dimensions, clusters, seed: 2024);
            var data = all.Take(rows).ToArray();
            var probes = all.Skip(rows).ToArray();
            var watch = Stopwatch.StartNew();
            // Into the fresh gallery's new model, without its HNSW index: each configuration below builds its own.
            await SyntheticGallery.LoadAsync(dataSource, data, clusters, buildIndexes: false, cancellationToken: cancellationToken);
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"binary COPY of {rows:N0} rows: {watch.Elapsed.TotalSeconds:F1} s ({rows / watch.Elapsed.TotalSeconds:N0} rows/s)"));
            _log.WriteLine(notes[^1]);
            await ExecuteAsync(dataSource, "VACUUM ANALYZE gallery.image_gallery", cancellationToken);
            await ExecuteAsync(dataSource, "VACUUM ANALYZE gallery.image_embeddings_m1", cancellationToken);

            var exact = await ExactAsync(dataSource, probes, k, cancellationToken);
            results.Add(new SearchBenchmarkRow("exact scan", "sequential scan", 1.0, exact.P50, exact.P95, null));
            Report(results[^1]);

            // The seed article: IVFFlat with lists = 100 and pgvector's default probes = 1.
            watch.Restart();
            await ExecuteAsync(dataSource, "CREATE INDEX image_embeddings_m1_embedding_idx ON gallery.image_embeddings_m1 USING ivfflat ((embedding::vector(512)) vector_cosine_ops) WITH (lists = 100)", cancellationToken);
            var seedBuild = watch.Elapsed.TotalSeconds;
            var seed = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
            results.Add(new SearchBenchmarkRow("seed: IVFFlat, default lists, default probes", "lists = 100; ivfflat.probes = 1", seed.Recall, seed.P50, seed.P95, seedBuild));
            Report(results[^1]);

            var tuner = new IndexTuner(dataSource);
            var manager = new VectorIndexManager(dataSource);
            var ivf = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat), _log, cancellationToken: cancellationToken);
            var ivfTune = await tuner.TuneAsync(new TuneOptions(targetRecall, 100, k), _log, cancellationToken: cancellationToken);
            var tunedIvf = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
            results.Add(new SearchBenchmarkRow("tuned IVFFlat", $"{ivf.Parameters}; ivfflat.probes = {ivfTune.Chosen.Value}", tunedIvf.Recall, tunedIvf.P50, tunedIvf.P95, ivf.BuildSeconds));
            Report(results[^1]);

            var hnsw = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw), _log, cancellationToken: cancellationToken);
            var hnswTune = await tuner.TuneAsync(new TuneOptions(targetRecall, 100, k), _log, cancellationToken: cancellationToken);
            var tunedHnsw = await MeasureAsync(dataSource, probes, exact.KthDistances, k, cancellationToken);
            results.Add(new SearchBenchmarkRow("tuned HNSW", $"{hnsw.Parameters}; hnsw.ef_search = {hnswTune.Chosen.Value}", tunedHnsw.Recall, tunedHnsw.P50, tunedHnsw.P95, hnsw.BuildSeconds));
            Report(results[^1]);

            var quantized = await new QuantizedIndexBenchmark(dataSource, Dimensions, _log).RunAsync(
                probes, exact.KthDistances, k, hnsw, hnswTune.Chosen.Value, cancellationToken);
            results.AddRange(quantized.Rows);
            notes.AddRange(quantized.Notes);

            if (embedUrl is not null && embedder is not null)
            {
                results.AddRange(await TextSearchAsync(dataSource, embedUrl, embedder, Math.Min(queries, 100), k, cancellationToken));
            }

            await WriteReportAsync(reportPath, rows, queries, k, clusters, targetRecall, results, notes, cancellationToken);
            return results;
        }
        finally
        {
            if (keep)
            {
                _log.WriteLine($"kept the scratch database {scratch.Name}");
            }
        }
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

    private async Task<(float[] KthDistances, double P50, double P95)> ExactAsync(NpgsqlDataSource dataSource, float[][] probes, int k, CancellationToken cancellationToken)
    {
        _log.WriteLine($"exact answers for {probes.Length} held-out queries by sequential scan");
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var off = new NpgsqlCommand("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(
            "SELECT (embedding <=> $1)::real FROM gallery.image_embeddings_m1 ORDER BY embedding <=> $1 LIMIT $2", connection, transaction)
        {
            CommandTimeout = 0,
        };
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(probes[0]) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        var kth = new float[probes.Length];
        var latencies = new List<double>();
        for (var i = 0; i < probes.Length; i++)
        {
            command.Parameters[0].Value = new Vector(probes[i]);
            var watch = Stopwatch.StartNew();
            var last = float.PositiveInfinity;
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    last = reader.GetFloat(0);
                }
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
            kth[i] = last;
        }

        await transaction.RollbackAsync(cancellationToken);
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
                        if (reader.GetFloat(0) <= kth[i] + 1e-6f)
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
            $"{row.Name}: {row.Setting}: recall {(double.IsNaN(row.Recall) ? "-" : row.Recall.ToString("F4", CultureInfo.InvariantCulture))}, p50 {row.P50Ms:F2} ms, p95 {row.P95Ms:F2} ms{(row.BuildSeconds is { } b ? $", build {b:F1} s" : "")}"));

    private static async Task WriteReportAsync(string path, int rows, int queries, int k, int clusters, double target, List<SearchBenchmarkRow> results, List<string> notes, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# dbfirst bench search, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"{rows:N0} synthetic 512-d vectors (Gaussian mixture, {clusters} clusters), {queries} held-out query vectors from the same mixture, recall@{k}, tuner target {target:F2}.")
            .AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} logical CPUs, PostgreSQL on the same machine; latency is client-measured wall time of one `SELECT` through the search function.")
            .AppendLine()
            .AppendLine("| configuration | setting | recall@10 | p50 ms | p95 ms | build s |")
            .AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var row in results)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Name} | {row.Setting} | {(double.IsNaN(row.Recall) ? "" : row.Recall.ToString("F4", CultureInfo.InvariantCulture))} | {row.P50Ms:F2} | {row.P95Ms:F2} | {(row.BuildSeconds is { } b ? b.ToString("F1", CultureInfo.InvariantCulture) : "")} |");
        }

        text.AppendLine();
        foreach (var note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, text.ToString(), cancellationToken);
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
