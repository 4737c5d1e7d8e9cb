using System.Numerics.Tensors;
using Npgsql;
using Pgvector;

namespace DbFirst.Indexing;

/// <summary>
/// The exact k nearest rows of many queries in one sequential pass: the rows stream from the server once, and each
/// query keeps its own bounded heap.
/// </summary>
/// <remarks>
/// Ground truth for recall used to be one <c>ORDER BY embedding &lt;=&gt; $1 LIMIT k</c> per query with index scans
/// off: a full sequential scan each, about 1.6 s at 10^6 rows, so <c>index tune</c>'s 400 of them took 11 minutes.
/// Streamed once, the same answers cost one read of the table and the distance arithmetic, spread over the cores.
/// Written by hand because neither PostgreSQL nor pgvector has a multi-query exact k-NN, and sorting every
/// (query, row) pair in SQL would sort 2 × 10^8 rows. Distances follow pgvector's cosine distance: float dot products
/// and norms, combined in double and clamped, so they agree with <c>&lt;=&gt;</c> to rounding (compare with a small
/// tolerance).
/// </remarks>
internal static class ExactNeighbourScan
{
    /// <summary>
    /// How far a distance pgvector returns may exceed the k-th exact one and still count as a hit: the two are
    /// summed in different orders, and a tie is not a miss.
    /// </summary>
    public const float Tolerance = 1e-5f;

    /// <summary>
    /// The distance of the last of <paramref name="found"/>, a query's k-th nearest, which a search result must not
    /// exceed (by more than <see cref="Tolerance"/>) to count; infinity when the query found none, so anything counts.
    /// </summary>
    public static float KthDistance(ExactNeighbour[] found) => found.Length == 0 ? float.PositiveInfinity : found[^1].Distance;

    // Rows read per batch: large enough to keep both cores busy, small enough to stay in cache-sized memory.
    private const int BatchRows = 2048;

    /// <summary>Finds each query's <paramref name="k"/> nearest rows of <paramref name="rowsSql"/>.</summary>
    /// <param name="connection">An open connection with pgvector's types loaded.</param>
    /// <param name="rowsSql">A query returning <c>(bigint id, vector embedding)</c>, with no parameters other than <paramref name="parameters"/>.</param>
    /// <param name="parameters">Values for <paramref name="rowsSql"/>'s <c>$1</c>, <c>$2</c>, ….</param>
    /// <param name="queries">The query vectors, each of the rows' dimension.</param>
    /// <param name="k">Neighbours per query.</param>
    /// <param name="excluded">Per query, a row id to leave out (the query's own row), or null.</param>
    /// <param name="cancellationToken">Stops the scan.</param>
    /// <returns>Per query, its neighbours nearest first (ties by id); fewer than k when the rows run out.</returns>
    public static async Task<ExactNeighbour[][]> FindAsync(
        NpgsqlConnection connection, string rowsSql, IReadOnlyList<object> parameters, IReadOnlyList<float[]> queries, int k,
        IReadOnlyList<long?>? excluded = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (excluded is not null && excluded.Count != queries.Count)
        {
            throw new ArgumentException("one exclusion per query", nameof(excluded));
        }

        var norms = queries.Select(query => TensorPrimitives.Dot<float>(query, query)).ToArray();
        var heaps = queries.Select(_ => new PriorityQueue<ExactNeighbour, ExactNeighbour>(k + 1, FarthestFirst.Instance)).ToArray();
        var ids = new long[BatchRows];
        var vectors = new float[BatchRows][];
        var rowNorms = new float[BatchRows];
        var nextIds = new long[BatchRows];
        var nextVectors = new float[BatchRows][];
        var pending = Task.CompletedTask;

        await using var command = new NpgsqlCommand(rowsSql, connection) { CommandTimeout = 0 };
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using (var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken))
        {
            var count = 0;
            while (true)
            {
                var more = await reader.ReadAsync(cancellationToken);
                if (more)
                {
                    nextIds[count] = reader.GetInt64(0);
                    nextVectors[count] = reader.GetFieldValue<Vector>(1).ToArray();
                    count++;
                }

                if (count == BatchRows || (!more && count > 0))
                {
                    // The previous batch's arithmetic overlaps this batch's read; swap buffers once it is done.
                    await pending;
                    (ids, nextIds) = (nextIds, ids);
                    (vectors, nextVectors) = (nextVectors, vectors);
                    var (batchIds, batchVectors, rows) = (ids, vectors, count);
                    count = 0;
                    pending = Task.Run(() => Rank(queries, norms, excluded, heaps, k, batchIds, batchVectors, rowNorms, rows, cancellationToken), cancellationToken);
                }

                if (!more)
                {
                    break;
                }
            }
        }

        await pending;
        return heaps.Select(heap =>
        {
            var neighbours = new ExactNeighbour[heap.Count];
            for (var i = neighbours.Length - 1; i >= 0; i--)
            {
                neighbours[i] = heap.Dequeue();
            }

            return neighbours;
        }).ToArray();
    }

    /// <summary>
    /// What a search costs with no index, for comparison: the milliseconds of each of <paramref name="queries"/> run
    /// through <paramref name="searchSql"/> with index scans off (a sequential scan each, read to the end).
    /// </summary>
    /// <param name="connection">An open connection with pgvector's types loaded.</param>
    /// <param name="searchSql">An <c>ORDER BY embedding &lt;=&gt; $1 LIMIT $2</c> query; <c>$3</c>, … are <paramref name="parameters"/>.</param>
    /// <param name="parameters">Values for <c>$3</c>, <c>$4</c>, ….</param>
    /// <param name="queries">The query vectors to time, one scan each.</param>
    /// <param name="k">Rows per search.</param>
    /// <param name="cancellationToken">Stops the scans.</param>
    public static async Task<List<double>> TimeSequentialScansAsync(
        NpgsqlConnection connection, string searchSql, IReadOnlyList<object> parameters, IEnumerable<float[]> queries, int k, CancellationToken cancellationToken = default)
    {
        // Rolled back at the end, which also drops the settings.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var off = new NpgsqlCommand("SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off", connection, transaction))
        {
            await off.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(searchSql, connection, transaction) { CommandTimeout = 0 };
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(new float[] { 0 }) });
        command.Parameters.Add(new NpgsqlParameter { Value = k });
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        var latencies = new List<double>();
        foreach (var query in queries)
        {
            command.Parameters[0].Value = new Vector(query);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                }
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        await transaction.RollbackAsync(cancellationToken);
        return latencies;
    }

    /// <summary>pgvector's cosine distance between <paramref name="a"/> and <paramref name="b"/> given their squared norms.</summary>
    internal static float CosineDistance(ReadOnlySpan<float> a, float normA, ReadOnlySpan<float> b, float normB)
    {
        var similarity = TensorPrimitives.Dot(a, b) / Math.Sqrt((double)normA * normB);
        return double.IsNaN(similarity) ? float.NaN : (float)(1.0 - Math.Clamp(similarity, -1.0, 1.0));
    }

    private static void Rank(
        IReadOnlyList<float[]> queries, float[] norms, IReadOnlyList<long?>? excluded, PriorityQueue<ExactNeighbour, ExactNeighbour>[] heaps, int k,
        long[] ids, float[][] vectors, float[] rowNorms, int rows, CancellationToken cancellationToken)
    {
        for (var r = 0; r < rows; r++)
        {
            rowNorms[r] = TensorPrimitives.Dot<float>(vectors[r], vectors[r]);
        }

        // Each query owns its heap, so the queries split over the cores without locks.
        Parallel.For(0, queries.Count, new ParallelOptions { CancellationToken = cancellationToken }, q =>
        {
            var heap = heaps[q];
            var query = queries[q];
            var skip = excluded?[q];
            for (var r = 0; r < rows; r++)
            {
                if (ids[r] == skip)
                {
                    continue;
                }

                var distance = CosineDistance(query, norms[q], vectors[r], rowNorms[r]);
                if (float.IsNaN(distance))
                {
                    continue;
                }

                var candidate = new ExactNeighbour(ids[r], distance);
                if (heap.Count < k)
                {
                    heap.Enqueue(candidate, candidate);
                }
                else if (FarthestFirst.Instance.Compare(candidate, heap.Peek()) > 0)
                {
                    heap.DequeueEnqueue(candidate, candidate);
                }
            }
        });
    }

    // The heap's root is its farthest neighbour (ties: the larger id), the one a nearer row replaces.
    private sealed class FarthestFirst : IComparer<ExactNeighbour>
    {
        public static readonly FarthestFirst Instance = new();

        public int Compare(ExactNeighbour x, ExactNeighbour y)
        {
            var byDistance = y.Distance.CompareTo(x.Distance);
            return byDistance != 0 ? byDistance : y.Id.CompareTo(x.Id);
        }
    }
}
