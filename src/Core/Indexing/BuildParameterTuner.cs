using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Pgvector;

namespace DbFirst.Indexing;

/// <summary>
/// <c>dbfirst index tune</c> when <c>hnsw.ef_search</c> alone cannot reach the target: chooses HNSW build parameters
/// (m, ef_construction) on a sample, rebuilds the real index once with them, then tunes its <c>ef_search</c>.
/// </summary>
/// <remarks>
/// A full build of a large table takes long, so candidates are built over a random sample of the model's rows in a
/// temporary table (serially, memory from <see cref="BuildPlanner"/> within the ceiling), cheapest first. Further sampled
/// rows, left out of the table, are the queries; their exact neighbours come from one sequential pass over the sample.
/// Recall falls as a table grows, so a sample flatters every candidate: the index in place, whose full-table recall
/// the first tune just measured, is built over the sample too, and how many times more often it missed on the full
/// table (the miss ratio) scales every candidate's sample misses. The first candidate whose scaled recall reaches
/// the target plus a margin at an <c>ef_search</c> within bounds is chosen; the real rebuild goes through
/// <see cref="VectorIndexManager.RebuildAsync"/> (build plan, memory ceiling, concurrent swap).
/// </remarks>
public sealed class BuildParameterTuner
{
    private const string SampleTable = "dbfirst_tune_sample";

    private readonly NpgsqlDataSource _dataSource;
    private readonly long _buildMemoryCeiling;

    /// <summary>Creates a tuner over <paramref name="dataSource"/> (the owner's: builds need table ownership).</summary>
    /// <param name="dataSource">The owner's data source.</param>
    /// <param name="buildMemoryCeiling">The most <c>maintenance_work_mem</c> any build may take; <see cref="BuildMemoryCeiling.Default"/> when null.</param>
    public BuildParameterTuner(NpgsqlDataSource dataSource, long? buildMemoryCeiling = null)
    {
        _dataSource = dataSource;
        _buildMemoryCeiling = buildMemoryCeiling ?? BuildMemoryCeiling.Default;
    }

    /// <summary>
    /// Evaluates candidates on a sample, rebuilds with the chosen one and tunes its <c>ef_search</c>; with
    /// <see cref="TuneOptions.Store"/> false (a dry run) it only evaluates.
    /// </summary>
    /// <param name="tune">The target recall, k and the final tune's queries.</param>
    /// <param name="build">Sample size, margin, largest ef_search.</param>
    /// <param name="current">The tune of the index in place (its full-table recalls give the miss ratio); null to assume none.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="cancellationToken">Cancels the run; the temporary table goes with the connection.</param>
    /// <exception cref="GalleryException">Bad options, no HNSW index of the active model, or too few rows to sample.</exception>
    public async Task<BuildTuneReport> TuneAsync(TuneOptions tune, BuildTuneOptions build, TuneReport? current, TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tune);
        ArgumentNullException.ThrowIfNull(build);
        build.Validate();
        var manager = new VectorIndexManager(_dataSource, _buildMemoryCeiling);
        var status = await manager.GetStatusAsync(tune.Model, cancellationToken);
        if (status.Method != VectorIndexManager.Hnsw || status.Parameters is not HnswParameters inPlace)
        {
            throw new GalleryException($"choosing build parameters needs an HNSW index of {(tune.Model is null ? "the active model" : tune.Model)}: dbfirst index rebuild --type hnsw first");
        }

        IndexTarget target;
        await using (var resolve = await _dataSource.OpenConnectionAsync(cancellationToken))
        {
            target = await IndexTarget.ResolveAsync(resolve, tune.Model, cancellationToken);
        }

        // Each candidate's full-size build planned as the rebuild would be: memory within the ceiling, spill, and time
        // scaled from the last build of this index when there is one. The rows and workers are read once, for the
        // index in place, not counted again per candidate.
        var precision = status.Precision ?? IndexPrecision.Full;
        var basis = await manager.PlanAsync(
            new IndexBuildOptions(VectorIndexManager.Hnsw, M: inPlace.M, EfConstruction: inPlace.EfConstruction, Precision: precision), tune.Model, cancellationToken);
        BuildPlan FullPlan(HnswParameters parameters) =>
            BuildPlanner.Plan(parameters, basis.Rows, basis.Dimensions, _buildMemoryCeiling, basis.Workers, status.LastBuild, precision);
        var (candidates, overBudget, chosen, ratio, sampleRows, queryCount) = await EvaluateAsync(target, status.Rows, tune, build, inPlace, current, FullPlan, log, cancellationToken);
        if (!tune.Store)
        {
            return new BuildTuneReport(sampleRows, queryCount, ratio, candidates, overBudget, chosen, null, null, null);
        }

        if (chosen.M == inPlace.M && chosen.EfConstruction == inPlace.EfConstruction)
        {
            // Rebuilding with the parameters in place gives the same graph: the ef_search tune already done stands.
            log?.WriteLine($"m = {chosen.M}, ef_construction = {chosen.EfConstruction} is the index in place: not rebuilt");
            return new BuildTuneReport(sampleRows, queryCount, ratio, candidates, overBudget, chosen, null, null, current);
        }

        // The sample builds are at full precision; the rebuild keeps the precision of the index in place (a half
        // index's recall is within about 0.001 of the full one's at the same settings; a binary index's follows its
        // re-rank factor more than its graph, and these parameters are only the full sample's choice for it).
        var options = new IndexBuildOptions(VectorIndexManager.Hnsw, M: chosen.M, EfConstruction: chosen.EfConstruction, Precision: precision);
        var plan = await manager.PlanAsync(options, tune.Model, cancellationToken);
        log?.WriteLine($"rebuilding the index with m = {chosen.M}, ef_construction = {chosen.EfConstruction}");
        var rebuilt = await manager.RebuildAsync(options, log, tune.Model, cancellationToken);
        var search = await new IndexTuner(_dataSource).TuneAsync(tune, log, cancellationToken);
        return new BuildTuneReport(sampleRows, queryCount, ratio, candidates, overBudget, chosen, plan, rebuilt, search);
    }

    private async Task<(List<BuildCandidate> Candidates, List<BuildPlan> OverBudget, BuildCandidate Chosen, double Ratio, int SampleRows, int Queries)> EvaluateAsync(
        IndexTarget target, long rows, TuneOptions tune, BuildTuneOptions build, HnswParameters inPlace, TuneReport? current, Func<HnswParameters, BuildPlan> fullPlan,
        TextWriter? log, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var (queries, sampleRows) = await SampleAsync(connection, target, rows, build, tune.Seed, cancellationToken);
            log?.WriteLine($"build parameters: {sampleRows:N0} sampled rows, {queries.Count} more as queries, target recall@{tune.K} {tune.TargetRecall:F3} + margin {build.Margin:F3}");
            var kth = await ExactAsync(connection, queries, tune.K, cancellationToken);
            var efLadder = IndexTuner.EfSearchCandidates(tune.K).Where(ef => ef <= build.MaxEfSearch).ToArray();

            // The index in place, over the sample, at every ef_search the full-table tune measured: the miss ratio.
            var ratio = 1.0;
            if (current is { Steps.Count: > 0 })
            {
                var full = current.Steps.Where(step => efLadder.Contains(step.Value)).ToDictionary(step => step.Value, step => step.Recall);
                var sample = await BuildAndSweepAsync(connection, target, inPlace, sampleRows, queries, kth, tune.K, full.Keys.Order().ToArray(), _ => false, cancellationToken);
                var (at, measured) = MissRatio(full, sample.Recalls, tune.TargetRecall, queries.Count);
                ratio = measured;
                log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"index in place ({inPlace}): the full table missed {ratio:F2}x as often as the sample{(at is { } ef ? $" at ef_search {ef}" : "")}; sample recalls are scaled by it"));
            }

            var goal = Math.Min(1, tune.TargetRecall + build.Margin);
            double Predicted(double recall) => 1 - ((1 - recall) * ratio);
            var candidates = new List<BuildCandidate>();
            var overBudget = new List<BuildPlan>();
            var budgetSeconds = build.MaxBuildMinutes > 0 ? build.MaxBuildMinutes * 60.0 : double.PositiveInfinity;
            foreach (var parameters in BuildTuneOptions.Candidates)
            {
                // Not worth a sample build when the full one could not be chosen anyway (an unknown time is tried).
                var plan = fullPlan(parameters);
                if (plan.EstimatedSeconds > budgetSeconds)
                {
                    overBudget.Add(plan);
                    log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  m = {parameters.M,2}, ef_construction = {parameters.EfConstruction,3}: not tried: full build ~{BuildPlan.FormatDuration(plan.EstimatedSeconds!.Value)}, over the {build.MaxBuildMinutes}-minute budget (--max-build-minutes)"));
                    continue;
                }

                var swept = await BuildAndSweepAsync(connection, target, parameters, sampleRows, queries, kth, tune.K, efLadder, recall => Predicted(recall) >= goal, cancellationToken);
                var (ef, recall) = swept.Recalls.Last();
                var reached = Predicted(recall) >= goal;
                var candidate = new BuildCandidate(
                    parameters.M, parameters.EfConstruction, swept.Seconds, swept.Bytes, reached ? ef : null, recall, Predicted(recall), swept.P50[ef], plan);
                candidates.Add(candidate);
                log?.WriteLine("  " + candidate.Describe());
                if (reached)
                {
                    // Candidates come cheapest build first: the first to reach is the one to build.
                    return (candidates, overBudget, candidate, ratio, sampleRows, queries.Count);
                }
            }

            if (candidates.Count == 0)
            {
                throw new GalleryException(string.Create(CultureInfo.InvariantCulture,
                    $"even the cheapest pair's full build (~{BuildPlan.FormatDuration(overBudget[0].EstimatedSeconds!.Value)}) is over the {build.MaxBuildMinutes}-minute budget: raise --max-build-minutes, or keep the ef_search tune alone"));
            }

            var best = candidates.MaxBy(candidate => candidate.PredictedRecall)!;
            log?.WriteLine(overBudget.Count == 0
                ? $"no candidate reached the target on the sample; building the best predicted one (m = {best.M}, ef_construction = {best.EfConstruction})"
                : string.Create(CultureInfo.InvariantCulture,
                    $"no candidate within the {build.MaxBuildMinutes}-minute build budget reached the target on the sample; building the best predicted one within it (m = {best.M}, ef_construction = {best.EfConstruction}, predicted {best.PredictedRecall:F4}); {overBudget.Count} larger pair(s) not tried: raise --max-build-minutes to try them"));
            return (candidates, overBudget, best, ratio, sampleRows, queries.Count);
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await IndexSql.ExecuteAsync(connection, $"DROP TABLE IF EXISTS pg_temp.{SampleTable}; RESET maintenance_work_mem; RESET enable_seqscan; RESET hnsw.ef_search", CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// How many times more often the full table's index misses than the same build over the sample, taken at the
    /// largest ef_search where the full table still misses at least half the target's allowance: that is the regime
    /// the prediction is about. Pooling every ef_search let the small ones, where both miss often, pull the ratio
    /// down (1.3 where the table missed 9.5 times as often near the target), so the chosen pair fell short.
    /// </summary>
    /// <returns>The ef_search it was taken at (null when the full table never missed that much) and the ratio (at least 1).</returns>
    internal static (int? EfSearch, double Ratio) MissRatio(
        IReadOnlyDictionary<int, double> full, IReadOnlyDictionary<int, double> sample, double targetRecall, int queries)
    {
        var allowance = (1 - targetRecall) / 2;
        var telling = full
            .Where(step => sample.ContainsKey(step.Key) && 1 - step.Value >= allowance)
            .OrderByDescending(step => step.Key)
            .Select(step => (int?)step.Key)
            .FirstOrDefault();
        if (telling is not { } ef)
        {
            return (null, 1);
        }

        // A sample that missed nothing at this ef_search is floored at one miss in its queries, not divided by zero.
        return (ef, Math.Max(1, (1 - full[ef]) / Math.Max(1 - sample[ef], 1.0 / queries)));
    }

    // A random sample of the model's rows into a temporary table; the first few become the queries and leave it.
    private async Task<(List<float[]> Queries, int SampleRows)> SampleAsync(
        NpgsqlConnection connection, IndexTarget target, long rows, BuildTuneOptions build, int seed, CancellationToken cancellationToken)
    {
        if (rows < build.SampleQueries + 1000)
        {
            throw new GalleryException($"only {rows:N0} embedded rows: too few to sample {build.SampleQueries} queries and 1,000 rows");
        }

        try
        {
            // Candidate indexes of a temporary table live in this session's local buffers: give them room.
            await IndexSql.ExecuteAsync(connection, "SET temp_buffers = '256MB'", cancellationToken);
        }
        catch (PostgresException)
        {
            // This pooled session used temporary tables before; the default buffers only make the builds slower.
        }

        var wanted = Math.Min(rows, (long)build.SampleRows + build.SampleQueries);
        // BERNOULLI picks rows independently (SYSTEM would pick whole pages), REPEATABLE makes it the same sample each time.
        var percent = Math.Min(100, 100.0 * 1.2 * wanted / rows);
        await IndexSql.ExecuteAsync(connection, $"DROP TABLE IF EXISTS pg_temp.{SampleTable}", cancellationToken);
        await using (var create = new NpgsqlCommand(
            $"""
            CREATE TEMPORARY TABLE {SampleTable} AS
            SELECT row_number() OVER (ORDER BY md5(s.image_id::text)) AS n, s.embedding::vector({target.Dimension}) AS embedding
            FROM (
              SELECT e.image_id, e.embedding FROM gallery.{target.Table} e
              TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2)
              LIMIT $3
            ) s
            """, connection)
        {
            CommandTimeout = 0,
            Parameters = { new() { Value = (float)percent }, new() { Value = (double)seed }, new() { Value = wanted } },
        })
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var queries = new List<float[]>();
        await using (var take = new NpgsqlCommand($"DELETE FROM {SampleTable} WHERE n <= $1 RETURNING embedding", connection) { Parameters = { new() { Value = (long)build.SampleQueries } } })
        await using (var reader = await take.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                queries.Add(reader.GetFieldValue<Vector>(0).ToArray());
            }
        }

        var sampleRows = await IndexSql.ScalarAsync<long>(connection, $"SELECT count(*) FROM {SampleTable}", cancellationToken);
        if (sampleRows < 1000 || queries.Count < 10)
        {
            throw new GalleryException($"the sample came out at {sampleRows:N0} rows and {queries.Count} queries: too few to measure recall");
        }

        return (queries, (int)sampleRows);
    }

    // The k-th exact distance of each query, from one pass over the sample (ExactNeighbourScan).
    private static async Task<float[]> ExactAsync(NpgsqlConnection connection, List<float[]> queries, int k, CancellationToken cancellationToken)
    {
        var exact = await ExactNeighbourScan.FindAsync(connection, $"SELECT n, embedding FROM {SampleTable}", [], queries, k, cancellationToken: cancellationToken);
        return exact.Select(ExactNeighbourScan.KthDistance).ToArray();
    }

    // Builds the candidate over the sample, sweeps ef_search upwards until `enough` says so, drops the index.
    private async Task<Sweep> BuildAndSweepAsync(
        NpgsqlConnection connection, IndexTarget target, HnswParameters parameters, long rows, List<float[]> queries, float[] kth, int k, int[] efLadder, Func<double, bool> enough, CancellationToken cancellationToken)
    {
        var plan = BuildPlanner.Plan(parameters, rows, target.Dimension, _buildMemoryCeiling, 0, null);
        await IndexSql.ExecuteAsync(connection,
            $"SET maintenance_work_mem = '{(plan.MaintenanceWorkMemBytes / 1024).ToString(CultureInfo.InvariantCulture)}kB'; SET enable_seqscan = off", cancellationToken);
        var watch = Stopwatch.StartNew();
        await IndexSql.ExecuteAsync(connection, $"CREATE INDEX {SampleTable}_idx ON {SampleTable} USING hnsw (embedding vector_cosine_ops) WITH ({parameters})", cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        var bytes = await IndexSql.ScalarAsync<long>(connection, $"SELECT pg_relation_size('pg_temp.{SampleTable}_idx')", cancellationToken);
        var recalls = new SortedDictionary<int, double>();
        var p50 = new Dictionary<int, double>();
        try
        {
            await using var command = new NpgsqlCommand($"SELECT (embedding <=> $1)::real FROM {SampleTable} ORDER BY embedding <=> $1 LIMIT $2", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = new Vector(queries[0]) });
            command.Parameters.Add(new NpgsqlParameter { Value = k });
            foreach (var ef in efLadder)
            {
                await IndexSql.ExecuteAsync(connection, $"SET hnsw.ef_search = {ef.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
                var latencies = new List<double>(queries.Count);
                double found = 0;
                for (var i = 0; i < queries.Count; i++)
                {
                    command.Parameters[0].Value = new Vector(queries[i]);
                    var call = Stopwatch.StartNew();
                    var hits = 0;
                    await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
                    {
                        while (await reader.ReadAsync(cancellationToken))
                        {
                            // Within float rounding of the k-th exact distance counts: a tie is not a miss.
                            hits += reader.GetFloat(0) <= kth[i] + ExactNeighbourScan.Tolerance ? 1 : 0;
                        }
                    }

                    latencies.Add(call.Elapsed.TotalMilliseconds);
                    found += Math.Min(1.0, hits / (double)k);
                }

                recalls[ef] = found / queries.Count;
                p50[ef] = IndexTuner.Percentile(latencies, 0.5);
                if (enough(recalls[ef]))
                {
                    break;
                }
            }
        }
        finally
        {
            await IndexSql.ExecuteAsync(connection, $"DROP INDEX IF EXISTS pg_temp.{SampleTable}_idx", CancellationToken.None);
        }

        return new Sweep(seconds, bytes, recalls, p50);
    }

    private sealed record Sweep(double Seconds, long Bytes, SortedDictionary<int, double> Recalls, Dictionary<int, double> P50);
}
