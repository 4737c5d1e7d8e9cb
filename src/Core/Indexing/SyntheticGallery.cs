using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Indexing;

/// <summary>
/// Clustered synthetic embeddings for benchmarks and tests: a Gaussian mixture on the unit sphere, which
/// behaves like real CLIP embeddings (images form groups) where uniform noise would not (every point is
/// nearly equidistant from every other, and no index can do well).
/// </summary>
public static class SyntheticGallery
{
    /// <summary>
    /// <paramref name="count"/> L2-normalised vectors drawn around <paramref name="clusters"/> random
    /// centres, each cluster with its own spread; point i belongs to cluster <c>i % clusters</c>.
    /// </summary>
    public static float[][] GaussianMixture(int count, int dimensions, int clusters, int seed)
    {
        var random = new Random(seed);
        var centres = new float[clusters][];
        var spreads = new double[clusters];
        for (var c = 0; c < clusters; c++)
        {
            centres[c] = Normalise(Enumerable.Range(0, dimensions).Select(_ => (float)Gaussian(random)).ToArray());
            // Noise of 0.4-0.9 of the centre's length: cosine distance to the centre of about 0.07-0.3.
            spreads[c] = (0.4 + (0.5 * random.NextDouble())) / Math.Sqrt(dimensions);
        }

        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var c = i % clusters;
            var v = new float[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                v[d] = (float)(centres[c][d] + (spreads[c] * Gaussian(random)));
            }

            vectors[i] = Normalise(v);
        }

        return vectors;
    }

    /// <summary>
    /// Appends one <c>gallery.image_gallery</c> row per vector with binary COPY: path
    /// <c>{root}/c{cluster}/{i}.jpg</c> (cluster = i % <paramref name="clusters"/>), taken_at one minute
    /// apart from 2020-01-01, embedding_model <c>synthetic</c>.
    /// </summary>
    /// <returns>The ids of the rows, in the order of <paramref name="vectors"/>.</returns>
    public static async Task<long[]> LoadAsync(NpgsqlDataSource dataSource, IReadOnlyList<float[]> vectors, int clusters, string root = "/synthetic", CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var first = DateTime.SpecifyKind(new DateTime(2020, 1, 1), DateTimeKind.Utc);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY gallery.image_gallery (path, taken_at, embedding, embedding_model, embedded_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            var now = DateTime.UtcNow;
            for (var i = 0; i < vectors.Count; i++)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync($"{root}/c{i % clusters:D3}/{i:D7}.jpg", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(first.AddMinutes(i), NpgsqlDbType.TimestampTz, cancellationToken);
                await writer.WriteAsync(new Vector(vectors[i]), cancellationToken);
                await writer.WriteAsync("synthetic", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(now, NpgsqlDbType.TimestampTz, cancellationToken);
            }

            await writer.CompleteAsync(cancellationToken);
        }

        var byPath = new List<(string Path, long Id)>();
        await using (var command = new NpgsqlCommand("SELECT path, id FROM gallery.image_gallery WHERE starts_with(path, $1)", connection) { Parameters = { new() { Value = root + "/" } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                byPath.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        var lookup = byPath.ToDictionary(row => row.Path, row => row.Id, StringComparer.Ordinal);
        await using (var analyze = new NpgsqlCommand("ANALYZE gallery.image_gallery", connection))
        {
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }

        return Enumerable.Range(0, vectors.Count).Select(i => lookup[$"{root}/c{i % clusters:D3}/{i:D7}.jpg"]).ToArray();
    }

    /// <summary>Cosine distance, as pgvector's <c>&lt;=&gt;</c> computes it.</summary>
    public static double CosineDistance(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return 1 - (dot / Math.Sqrt(na * nb));
    }

    private static float[] Normalise(float[] v)
    {
        var norm = (float)Math.Sqrt(v.Sum(x => (double)x * x));
        for (var i = 0; i < v.Length; i++)
        {
            v[i] /= norm;
        }

        return v;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
