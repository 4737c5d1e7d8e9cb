using System.Diagnostics;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// The searches users run, one after another on one connection, for <c>dbfirst bench backfill</c>:
/// <c>similar_images</c>, <c>search_by_embedding</c>, <c>near_duplicates</c> and <c>gallery.search</c> with cached texts.
/// Each answer is checked, untimed, against the active model's own stored vectors: a row whose distance is not the
/// active model's distance for it (what a staged model's row would be) is counted, as is every error.
/// </summary>
internal sealed class BackfillSearchLoop(NpgsqlDataSource dataSource, int activeModelId, IReadOnlyList<long> probes, IReadOnlyList<(string Text, float[] Vector)> texts, int k)
{
    /// <summary>The kinds of search, in the order the loop runs them and the report lists them.</summary>
    public static readonly string[] Kinds = ["similar_images", "search_by_embedding", "near_duplicates", "search (cached text)"];

    // 1e-6: a distance the functions return as real, against the same distance from the active model's stored vectors.
    private const string ForeignRowsSql = """
        SELECT count(*)
        FROM unnest($1::bigint[], $2::real[]) AS r(id, d)
        WHERE NOT EXISTS (
          SELECT 1 FROM gallery.image_embeddings e
          WHERE e.model_id = $3 AND e.image_id = r.id AND abs((e.embedding <=> $4) - r.d) <= 1e-6)
        """;

    private const string ForeignPairsSql = """
        SELECT count(*)
        FROM unnest($1::bigint[], $2::bigint[], $3::real[]) AS r(a, b, d)
        WHERE NOT EXISTS (
          SELECT 1 FROM gallery.image_embeddings x
          JOIN gallery.image_embeddings y ON y.model_id = x.model_id AND y.image_id = r.b
          WHERE x.model_id = $4 AND x.image_id = r.a AND abs((x.embedding <=> y.embedding) - r.d) <= 1e-6)
        """;

    /// <summary>What one stretch of the loop saw.</summary>
    public sealed record Outcome(IReadOnlyDictionary<string, List<double>> LatenciesMs, int Errors, IReadOnlyList<string> ErrorSamples, long ForeignRows, long RowsReturned);

    /// <summary>Runs rounds of the four searches until <paramref name="stop"/> is cancelled; the round in hand finishes first.</summary>
    public async Task<Outcome> RunAsync(CancellationToken stop)
    {
        var latencies = Kinds.ToDictionary(kind => kind, _ => new List<double>());
        var errors = 0;
        var samples = new List<string>();
        long foreign = 0;
        long returned = 0;
        var random = new Random(7);
        await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            foreach (var kind in Kinds)
            {
                try
                {
                    var (rows, foreignHere) = await SearchAsync(connection, kind, round, random, latencies[kind]);
                    returned += rows;
                    foreign += foreignHere;
                }
                catch (NpgsqlException e)
                {
                    errors++;
                    if (samples.Count < 5)
                    {
                        samples.Add($"{kind}: {e.Message}");
                    }
                }
            }
        }

        return new Outcome(latencies, errors, samples, foreign, returned);
    }

    private async Task<(long Rows, long Foreign)> SearchAsync(NpgsqlConnection connection, string kind, int round, Random random, List<double> latencies)
    {
        if (kind == "near_duplicates")
        {
            // One pair per image at most, within the stored neighbours' radius: a bounded answer whatever the model's spread.
            await using var duplicates = new NpgsqlCommand("SELECT id_a, id_b, distance FROM gallery.near_duplicates(gallery.neighbour_radius(), 1)", connection);
            var (a, b, d) = (new List<long>(), new List<long>(), new List<float>());
            var clock = Stopwatch.StartNew();
            await using (var reader = await duplicates.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    a.Add(reader.GetInt64(0));
                    b.Add(reader.GetInt64(1));
                    d.Add(reader.GetFloat(2));
                }
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
            return (a.Count, await ScalarAsync(connection, ForeignPairsSql, a.ToArray(), b.ToArray(), d.ToArray(), activeModelId));
        }

        NpgsqlCommand command;
        Vector query;
        switch (kind)
        {
            case "similar_images":
                var probe = probes[round % probes.Count];
                command = new NpgsqlCommand("SELECT id, distance FROM gallery.similar_images($1, $2)", connection) { Parameters = { new() { Value = probe }, new() { Value = k } } };
                await using (var read = new NpgsqlCommand("SELECT embedding FROM gallery.image_embeddings WHERE model_id = $1 AND image_id = $2", connection) { Parameters = { new() { Value = activeModelId }, new() { Value = probe } } })
                {
                    query = (Vector)(await read.ExecuteScalarAsync())!;
                }

                break;
            case "search_by_embedding":
                query = new Vector(RandomUnit(random, texts[0].Vector.Length));
                command = new NpgsqlCommand("SELECT id, distance FROM gallery.search_by_embedding($1, $2)", connection) { Parameters = { new() { Value = query }, new() { Value = k } } };
                break;
            default:
                var (text, vector) = texts[round % texts.Count];
                query = new Vector(vector);
                command = new NpgsqlCommand("SELECT id, distance FROM gallery.search($1, $2)", connection) { Parameters = { new() { Value = text }, new() { Value = k } } };
                break;
        }

        var (ids, distances) = (new List<long>(), new List<float>());
        await using (command)
        {
            var clock = Stopwatch.StartNew();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetInt64(0));
                    distances.Add(reader.GetFloat(1));
                }
            }

            latencies.Add(clock.Elapsed.TotalMilliseconds);
        }

        return (ids.Count, await ScalarAsync(connection, ForeignRowsSql, ids.ToArray(), distances.ToArray(), activeModelId, query));
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql, params object[] arguments)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var argument in arguments)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = argument });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static float[] RandomUnit(Random random, int dimension)
    {
        var vector = new float[dimension];
        for (var i = 0; i < dimension; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var norm = (float)Math.Sqrt(vector.Sum(x => x * x));
        return [.. vector.Select(x => x / norm)];
    }
}
