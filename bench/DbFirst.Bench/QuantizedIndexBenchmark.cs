using System.Diagnostics;
using System.Globalization;
using DbFirst.Indexing;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// The quantized configurations of <c>dbfirst bench search</c>, measured against the tuned full-precision HNSW
/// index of the same rows with the same build parameters and <c>hnsw.ef_search</c>:
/// <list type="bullet">
/// <item>half precision: an HNSW index on <c>embedding::halfvec(N)</c> (<c>halfvec_cosine_ops</c>), the one
/// <c>dbfirst index rebuild --precision half</c> builds, queried as the search functions query it;</item>
/// <item>binary quantization with re-ranking: an HNSW index on <c>binary_quantize(embedding)::bit(N)</c>
/// (<c>bit_hamming_ops</c>), over-fetching candidates by Hamming distance and ranking them by exact cosine.</item>
/// </list>
/// Each is queried directly (no search function around it), and so is the full-precision index, so the rows
/// compare the indexes alone.
/// </summary>
public sealed class QuantizedIndexBenchmark
{
    /// <summary>Candidates fetched by Hamming distance per neighbour asked for, before the exact re-rank.</summary>
    public static readonly IReadOnlyList<int> OverFetchFactors = [4, 10, 20, 40];

    private const string Table = "gallery.image_embeddings_m1";
    private const string FullIndex = "image_embeddings_m1_embedding_idx";
    private const string HalfIndex = "image_embeddings_m1_bench_half_idx";
    private const string BinaryIndex = "image_embeddings_m1_bench_binary_idx";

    private readonly NpgsqlDataSource _dataSource;
    private readonly TextWriter _log;
    private readonly int _dimensions;

    /// <summary>Creates the benchmark over the scratch gallery's model 1, whose managed index is the tuned full-precision HNSW.</summary>
    public QuantizedIndexBenchmark(NpgsqlDataSource dataSource, int dimensions, TextWriter log)
    {
        _dataSource = dataSource;
        _dimensions = dimensions;
        _log = log;
    }

    /// <summary>
    /// Builds the half-precision and/or binary indexes beside the full one (same parameters; each with the build plan's
    /// memory and workers), measures them with the full one, and drops them again.
    /// </summary>
    /// <param name="probes">Held-out query vectors.</param>
    /// <param name="kth">The exact k-th nearest distance of each query.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="fullBuild">The managed full-precision HNSW build: its parameters, time and size.</param>
    /// <param name="efSearch">The tuned <c>hnsw.ef_search</c>.</param>
    /// <param name="half">Measure the half-precision index.</param>
    /// <param name="binary">Measure binary quantization with re-ranking.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>Report rows, and notes comparing each with the full index.</returns>
    public async Task<(IReadOnlyList<SearchBenchmarkRow> Rows, IReadOnlyList<string> Notes)> RunAsync(
        float[][] probes, float[] kth, int k, IndexBuild fullBuild, int efSearch, bool half = true, bool binary = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fullBuild);
        var parameters = (HnswParameters)fullBuild.Parameters;
        var c = CultureInfo.InvariantCulture;
        var n = _dimensions.ToString(c);
        var setting = string.Create(c, $"{parameters}; hnsw.ef_search = {efSearch}");
        var manager = new VectorIndexManager(_dataSource);
        var fullPlan = await manager.PlanAsync(
            new IndexBuildOptions(VectorIndexManager.Hnsw, M: parameters.M, EfConstruction: parameters.EfConstruction), cancellationToken: cancellationToken);
        var fullSize = await SizeAsync(FullIndex, cancellationToken);
        var configurations = new List<Configuration>
        {
            new("full-precision HNSW, direct query", setting,
                $"SELECT (embedding::vector({n}) <=> $1)::real FROM {Table} ORDER BY embedding::vector({n}) <=> $1 LIMIT $2", k, efSearch,
                new Built(fullBuild.BuildSeconds, fullSize, null, fullPlan.MaintenanceWorkMemBytes)),
        };

        if (half)
        {
            var plan = await manager.PlanAsync(
                new IndexBuildOptions(VectorIndexManager.Hnsw, M: parameters.M, EfConstruction: parameters.EfConstruction, Precision: IndexPrecision.Half), cancellationToken: cancellationToken);
            var built = await BuildAsync(HalfIndex, $"(embedding::halfvec({n})) halfvec_cosine_ops", parameters, plan, cancellationToken);
            // As the search functions query a half index: candidates in the index's half-precision order, distances
            // returned at full precision.
            configurations.Add(new("half-precision HNSW (halfvec), direct query", setting,
                $"SELECT (embedding::vector({n}) <=> $1)::real FROM {Table} ORDER BY embedding::halfvec({n}) <=> $1::halfvec({n}) LIMIT $2", k, efSearch, built));
        }

        if (binary)
        {
            var built = await BuildAsync(BinaryIndex, $"(binary_quantize(embedding::vector({n}))::bit({n})) bit_hamming_ops", parameters, fullPlan, cancellationToken);
            foreach (var factor in OverFetchFactors)
            {
                // The candidates nearest by Hamming distance, then the k nearest of them by exact cosine distance; the
                // HNSW scan returns at most ef_search rows, so it is raised to the candidates fetched.
                var candidates = k * factor;
                var ef = Math.Max(efSearch, candidates);
                configurations.Add(new(
                    $"binary quantization + exact re-rank, {candidates} candidates (k x {factor})",
                    string.Create(c, $"{parameters}; hnsw.ef_search = {ef}"),
                    $"""
                    SELECT d FROM (
                      SELECT (embedding::vector({n}) <=> $1)::real AS d
                      FROM (SELECT embedding FROM {Table}
                            ORDER BY binary_quantize(embedding::vector({n}))::bit({n}) <~> binary_quantize($1)::bit({n})
                            LIMIT $3) candidates) ranked
                    ORDER BY d
                    LIMIT $2
                    """,
                    candidates, ef, factor == OverFetchFactors[0] ? built : built with { Seconds = null, PeakBytes = null }));
            }
        }

        var measured = await MeasureAsync(configurations, probes, kth, k, cancellationToken);
        var rows = configurations.Zip(measured, (configuration, result) => Row(configuration, result)).ToList();
        var full = measured[0];
        var notes = new List<string>();
        if (half)
        {
            var (halfRow, halfResult) = (configurations[1].Built, measured[1]);
            notes.Add(string.Create(c,
                $"half-precision index: {ByteSize.Format(halfRow.SizeBytes)} = {100.0 * halfRow.SizeBytes / fullSize:F1}% of the full index ({ByteSize.Format(fullSize)}); build {halfRow.Seconds:F1} s vs {fullBuild.BuildSeconds:F1} s; recall@{k} {halfResult.Recall:F4} vs {full.Recall:F4} at the same ef_search; p50 {halfResult.P50:F2} vs {full.P50:F2} ms"));
        }

        if (binary)
        {
            var first = configurations.FindIndex(configuration => configuration.Candidates > k);
            var binaryRow = configurations[first].Built;
            var reaching = configurations.Select((configuration, j) => (configuration, result: measured[j]))
                .Skip(first).FirstOrDefault(pair => pair.result.Recall >= 0.95);
            var verdict = reaching.configuration is null
                ? string.Create(c, $"recall@{k} stays below 0.95 up to {configurations[^1].Candidates} candidates (best {measured.Skip(first).Max(r => r.Recall):F4})")
                : string.Create(c, $"recall@{k} >= 0.95 from {reaching.configuration.Candidates} candidates: {reaching.result.Recall:F4} at p50 {reaching.result.P50:F2} ms vs the full index's {full.Recall:F4} at {full.P50:F2} ms");
            notes.Add(string.Create(c,
                $"binary-quantized index: {ByteSize.Format(binaryRow.SizeBytes)} = {100.0 * binaryRow.SizeBytes / fullSize:F1}% of the full index; build {binaryRow.Seconds:F1} s; {verdict}"));
        }

        notes.Add("quantized configurations: each query is run against every configuration in turn (one session each), so a change in the machine's load falls on all of them alike");
        foreach (var note in notes)
        {
            _log.WriteLine(note);
        }

        if (half)
        {
            await DropAsync(HalfIndex, cancellationToken);
        }

        if (binary)
        {
            await DropAsync(BinaryIndex, cancellationToken);
        }

        return (rows, notes);
    }

    private SearchBenchmarkRow Row(Configuration configuration, (double Recall, double P50, double P95) measured)
    {
        var built = configuration.Built;
        var row = new SearchBenchmarkRow(configuration.Name, configuration.Setting, measured.Recall, measured.P50, measured.P95, built.Seconds,
            built.SizeBytes, built.PeakBytes, built.MaintenanceWorkMemBytes);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{row.Name}: {row.Setting}: recall {row.Recall:F4}, p50 {row.P50Ms:F2} ms, p95 {row.P95Ms:F2} ms, index {ByteSize.Format(built.SizeBytes)}{(row.BuildSeconds is { } b ? $", build {b:F1} s" : "")}"));
        return row;
    }

    // With the build plan's memory and workers, as dbfirst index rebuild would build it, its peak memory sampled.
    private async Task<Built> BuildAsync(string name, string expression, HnswParameters parameters, BuildPlan plan, CancellationToken cancellationToken)
    {
        _log.WriteLine($"building {name} on {expression} ({parameters})");
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var c = CultureInfo.InvariantCulture;
        await ExecuteAsync(connection, string.Create(c,
            $"SET maintenance_work_mem = '{plan.MaintenanceWorkMemBytes / 1024}kB'; SET max_parallel_maintenance_workers = {plan.Workers}"), cancellationToken);
        double seconds;
        long? peak;
        await using (var sampler = await BuildMemorySampler.StartAsync(_dataSource, cancellationToken))
        {
            var watch = Stopwatch.StartNew();
            await ExecuteAsync(connection, $"CREATE INDEX {name} ON {Table} USING hnsw ({expression}) WITH ({parameters})", cancellationToken);
            seconds = watch.Elapsed.TotalSeconds;
            peak = await sampler.StopAsync();
        }

        await ExecuteAsync(connection, $"ANALYZE {Table}", cancellationToken);
        return new Built(seconds, await SizeAsync(name, cancellationToken), peak, plan.MaintenanceWorkMemBytes);
    }

    private async Task DropAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, $"DROP INDEX gallery.{name}", cancellationToken);
    }

    private async Task<long> SizeAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT pg_relation_size('gallery.{name}')", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    // $1 the query vector, $2 k, $3 the candidates to fetch. One session per configuration with its ef_search, its
    // plan checked once (a query that missed its index would measure a sequential scan under the index's name);
    // then each query runs against every configuration in turn, starting from a different one each time, a
    // warm-up pass first.
    private async Task<IReadOnlyList<(double Recall, double P50, double P95)>> MeasureAsync(
        IReadOnlyList<Configuration> configurations, float[][] probes, float[] kth, int k, CancellationToken cancellationToken)
    {
        var connections = new List<NpgsqlConnection>();
        var commands = new List<NpgsqlCommand>();
        try
        {
            foreach (var configuration in configurations)
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
                connections.Add(connection);
                await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"SET hnsw.ef_search = {configuration.EfSearch}"), cancellationToken);
                await CheckPlanAsync(connection, configuration, probes[0], k, cancellationToken);
                var command = new NpgsqlCommand(configuration.Sql, connection) { CommandTimeout = 0 };
                AddParameters(command, probes[0], k, configuration);
                commands.Add(command);
            }

            var latencies = configurations.Select(_ => new List<double>()).ToArray();
            var recalls = configurations.Select(_ => new List<double>()).ToArray();
            for (var pass = 0; pass < 2; pass++)
            {
                foreach (var list in latencies.Concat(recalls))
                {
                    list.Clear();
                }

                for (var i = 0; i < probes.Length; i++)
                {
                    for (var turn = 0; turn < commands.Count; turn++)
                    {
                        var j = (turn + i) % commands.Count;
                        commands[j].Parameters[0].Value = new Vector(probes[i]);
                        var watch = Stopwatch.StartNew();
                        var found = 0;
                        await using (var reader = await commands[j].ExecuteReaderAsync(cancellationToken))
                        {
                            while (await reader.ReadAsync(cancellationToken))
                            {
                                if (reader.GetFloat(0) <= kth[i] + ExactNeighbourScan.Tolerance)
                                {
                                    found++;
                                }
                            }
                        }

                        latencies[j].Add(watch.Elapsed.TotalMilliseconds);
                        recalls[j].Add(Math.Min(1.0, found / (double)k));
                    }
                }
            }

            return configurations.Select((_, j) => (recalls[j].Average(), IndexTuner.Percentile(latencies[j], 0.5), IndexTuner.Percentile(latencies[j], 0.95))).ToList();
        }
        finally
        {
            foreach (var command in commands)
            {
                await command.DisposeAsync();
            }

            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task CheckPlanAsync(NpgsqlConnection connection, Configuration configuration, float[] probe, int k, CancellationToken cancellationToken)
    {
        await using var explain = new NpgsqlCommand("EXPLAIN " + configuration.Sql, connection);
        AddParameters(explain, probe, k, configuration);
        var plan = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            plan.Add(reader.GetString(0));
        }

        if (!plan.Any(line => line.Contains("Index Scan", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"{configuration.Name}: the query does not use its index:{Environment.NewLine}{string.Join(Environment.NewLine, plan)}");
        }
    }

    private static void AddParameters(NpgsqlCommand command, float[] probe, int k, Configuration configuration)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(probe) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        if (configuration.Sql.Contains("$3", StringComparison.Ordinal))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = configuration.Candidates });
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>One measured configuration: its query, candidates fetched ($3), session ef_search, and its index.</summary>
    private sealed record Configuration(string Name, string Setting, string Sql, int Candidates, int EfSearch, Built Built);

    /// <summary>An index a configuration searches: build time and peak build memory (null on rows after the first that share it), size, maintenance_work_mem.</summary>
    private sealed record Built(double? Seconds, long SizeBytes, long? PeakBytes, long MaintenanceWorkMemBytes);
}
