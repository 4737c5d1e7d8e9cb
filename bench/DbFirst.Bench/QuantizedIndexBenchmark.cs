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
    /// Builds the half-precision and binary indexes beside the full one (same parameters, build memory and workers as
    /// the managed build), measures them, and drops them again.
    /// </summary>
    /// <param name="probes">Held-out query vectors.</param>
    /// <param name="kth">The exact k-th nearest distance of each query.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="fullBuild">The managed full-precision HNSW build: its parameters, time, and (planned again) memory and workers.</param>
    /// <param name="efSearch">The tuned <c>hnsw.ef_search</c>.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>Report rows, and notes with the index sizes.</returns>
    public async Task<(IReadOnlyList<SearchBenchmarkRow> Rows, IReadOnlyList<string> Notes)> RunAsync(
        float[][] probes, float[] kth, int k, IndexBuild fullBuild, int efSearch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fullBuild);
        var parameters = (HnswParameters)fullBuild.Parameters;
        var fullBuildSeconds = fullBuild.BuildSeconds;
        var plan = await new VectorIndexManager(_dataSource).PlanAsync(
            new IndexBuildOptions(VectorIndexManager.Hnsw, M: parameters.M, EfConstruction: parameters.EfConstruction), cancellationToken: cancellationToken);
        var rows = new List<SearchBenchmarkRow>();
        var notes = new List<string>();
        var c = CultureInfo.InvariantCulture;
        var n = _dimensions.ToString(c);
        var setting = string.Create(c, $"{parameters}; hnsw.ef_search = {efSearch}");

        var fullSize = await SizeAsync(FullIndex, cancellationToken);
        var full = await MeasureAsync(
            $"SELECT (embedding::vector({n}) <=> $1)::real FROM {Table} ORDER BY embedding::vector({n}) <=> $1 LIMIT $2",
            probes, kth, k, k, efSearch, cancellationToken);
        rows.Add(Row("full-precision HNSW, direct query", $"{setting}; index {ByteSize.Format(fullSize)}", full, fullBuildSeconds));

        var halfBuild = await BuildAsync(HalfIndex, $"(embedding::halfvec({n})) halfvec_cosine_ops", parameters, plan, cancellationToken);
        var halfSize = await SizeAsync(HalfIndex, cancellationToken);
        // As the search functions do with a half index: candidates by the index's half-precision order, distances
        // returned at full precision.
        var half = await MeasureAsync(
            $"SELECT (embedding::vector({n}) <=> $1)::real FROM {Table} ORDER BY embedding::halfvec({n}) <=> $1::halfvec({n}) LIMIT $2",
            probes, kth, k, k, efSearch, cancellationToken);
        rows.Add(Row("half-precision HNSW (halfvec), direct query", $"{setting}; index {ByteSize.Format(halfSize)}", half, halfBuild));
        notes.Add(string.Create(c,
            $"half-precision index: {ByteSize.Format(halfSize)} = {100.0 * halfSize / fullSize:F1}% of the full index ({ByteSize.Format(fullSize)}); build {halfBuild:F1} s vs {fullBuildSeconds:F1} s; recall@{k} {half.Recall:F4} vs {full.Recall:F4} at the same ef_search"));
        _log.WriteLine(notes[^1]);
        await DropAsync(HalfIndex, cancellationToken);

        var binaryBuild = await BuildAsync(BinaryIndex, $"(binary_quantize(embedding::vector({n}))::bit({n})) bit_hamming_ops", parameters, plan, cancellationToken);
        var binarySize = await SizeAsync(BinaryIndex, cancellationToken);
        notes.Add(string.Create(c, $"binary-quantized index: {ByteSize.Format(binarySize)} = {100.0 * binarySize / fullSize:F1}% of the full index; build {binaryBuild:F1} s"));
        _log.WriteLine(notes[^1]);
        var best = 0.0;
        foreach (var factor in OverFetchFactors)
        {
            var candidates = k * factor;
            // The candidates nearest by Hamming distance, then the k nearest of them by exact cosine distance.
            var binary = await MeasureAsync(
                $"""
                SELECT d FROM (
                  SELECT (embedding::vector({n}) <=> $1)::real AS d
                  FROM (SELECT embedding FROM {Table}
                        ORDER BY binary_quantize(embedding::vector({n}))::bit({n}) <~> binary_quantize($1)::bit({n})
                        LIMIT $3) candidates) ranked
                ORDER BY d
                LIMIT $2
                """,
                probes, kth, k, candidates, Math.Max(efSearch, candidates), cancellationToken);
            rows.Add(Row($"binary quantization + exact re-rank, {candidates} candidates (k x {factor})",
                string.Create(c, $"{parameters}; hnsw.ef_search = {Math.Max(efSearch, candidates)}; index {ByteSize.Format(binarySize)}"),
                binary, factor == OverFetchFactors[0] ? binaryBuild : null));
            best = Math.Max(best, binary.Recall);
        }

        notes.Add(string.Create(c,
            $"binary quantization reaches recall@{k} {best:F4} at most (issue rule: kept as a product option only at >= 0.95 with competitive latency)"));
        await DropAsync(BinaryIndex, cancellationToken);
        return (rows, notes);
    }

    private SearchBenchmarkRow Row(string name, string setting, (double Recall, double P50, double P95) measured, double? buildSeconds)
    {
        var row = new SearchBenchmarkRow(name, setting, measured.Recall, measured.P50, measured.P95, buildSeconds);
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{row.Name}: {row.Setting}: recall {row.Recall:F4}, p50 {row.P50Ms:F2} ms, p95 {row.P95Ms:F2} ms{(buildSeconds is { } b ? $", build {b:F1} s" : "")}"));
        return row;
    }

    // With the managed build's memory and workers, so build times compare.
    private async Task<double> BuildAsync(string name, string expression, HnswParameters parameters, BuildPlan plan, CancellationToken cancellationToken)
    {
        _log.WriteLine($"building {name} on {expression} ({parameters})");
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var c = CultureInfo.InvariantCulture;
        await ExecuteAsync(connection, string.Create(c,
            $"SET maintenance_work_mem = '{plan.MaintenanceWorkMemBytes / 1024}kB'; SET max_parallel_maintenance_workers = {plan.Workers}"), cancellationToken);
        var watch = Stopwatch.StartNew();
        await ExecuteAsync(connection, $"CREATE INDEX {name} ON {Table} USING hnsw ({expression}) WITH ({parameters})", cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        await ExecuteAsync(connection, $"ANALYZE {Table}", cancellationToken);
        return seconds;
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

    // $1 the query vector, $2 k, $3 the candidates to fetch; one warm-up pass, then the measured one. The plan is
    // checked once: a query that missed its index would measure a sequential scan under the index's name.
    private async Task<(double Recall, double P50, double P95)> MeasureAsync(
        string sql, float[][] probes, float[] kth, int k, int candidates, int efSearch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"SET hnsw.ef_search = {efSearch}"), cancellationToken);
        await using (var explain = new NpgsqlCommand("EXPLAIN " + sql, connection))
        {
            AddParameters(explain, probes[0], k, candidates, sql);
            var plan = new List<string>();
            await using var reader = await explain.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                plan.Add(reader.GetString(0));
            }

            if (!plan.Any(line => line.Contains("Index Scan", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"the benchmark query does not use its index:{Environment.NewLine}{string.Join(Environment.NewLine, plan)}");
            }
        }

        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        AddParameters(command, probes[0], k, candidates, sql);
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

    private static void AddParameters(NpgsqlCommand command, float[] probe, int k, int candidates, string sql)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(probe) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        if (sql.Contains("$3", StringComparison.Ordinal))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = candidates });
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
