using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Testing;

/// <summary>
/// Clustered synthetic embeddings for benchmarks and tests, shaped like CLIP image embeddings: a Gaussian
/// mixture in a low-dimensional latent space (real embeddings have an intrinsic dimension of a few
/// dozen), mapped into the full dimension by a fixed random linear map, offset along one shared
/// direction (CLIP embeddings fill a narrow cone: unrelated images still have cosine similarity around
/// 0.4), plus a little full-dimensional noise, then L2-normalised. Isotropic clusters in 512-d would be
/// unrealistically easy for IVFFlat (every cluster its own cell) and make nearest neighbours
/// meaningless (all points of a cluster equidistant); uniform noise would be hopeless for any index.
/// </summary>
public static class SyntheticGallery
{
    private const int LatentDimensions = 24;

    /// <summary>
    /// <paramref name="count"/> L2-normalised vectors drawn around <paramref name="clusters"/> latent
    /// centres, each cluster with its own spread; point i belongs to cluster <c>i % clusters</c>.
    /// </summary>
    public static float[][] GaussianMixture(int count, int dimensions, int clusters, int seed)
    {
        var random = new Random(seed);
        var latent = Math.Min(LatentDimensions, dimensions);
        var map = new double[dimensions, latent];
        for (var d = 0; d < dimensions; d++)
        {
            for (var l = 0; l < latent; l++)
            {
                map[d, l] = Gaussian(random) / Math.Sqrt(dimensions);
            }
        }

        var axis = Normalise(Enumerable.Range(0, dimensions).Select(_ => (float)Gaussian(random)).ToArray());
        // |latent point| is about sqrt(latent * 1.2); an offset of 0.9 times that gives unrelated pairs a cosine similarity near 0.45.
        var offset = 0.9 * Math.Sqrt(latent * 1.2);
        var noise = 0.15 * Math.Sqrt(latent * 1.2) / Math.Sqrt(dimensions);
        var centres = new double[clusters][];
        var spreads = new double[clusters];
        for (var c = 0; c < clusters; c++)
        {
            centres[c] = Enumerable.Range(0, latent).Select(_ => Gaussian(random)).ToArray();
            spreads[c] = 0.3 + (0.4 * random.NextDouble());
        }

        var vectors = new float[count][];
        var z = new double[latent];
        for (var i = 0; i < count; i++)
        {
            var c = i % clusters;
            for (var l = 0; l < latent; l++)
            {
                z[l] = centres[c][l] + (spreads[c] * Gaussian(random));
            }

            var v = new float[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                double x = 0;
                for (var l = 0; l < latent; l++)
                {
                    x += map[d, l] * z[l];
                }

                v[d] = (float)(x + (offset * axis[d]) + (noise * Gaussian(random)));
            }

            vectors[i] = Normalise(v);
        }

        return vectors;
    }

    /// <summary>
    /// The hard set of <c>dbfirst bench search --set hard</c>: <paramref name="count"/> L2-normalised vectors, point i
    /// a random unit direction among <paramref name="centres"/> (i % centres) plus Gaussian noise of
    /// <paramref name="spread"/> in every one of the full dimensions. Unlike <see cref="GaussianMixture"/> the noise
    /// fills all dimensions, so with a spread well above 1/sqrt(dimensions) the set is nearly uniform on the sphere:
    /// neighbours are barely closer than strangers, and an HNSW graph built with pgvector's defaults misses many.
    /// </summary>
    /// <remarks>Each row draws from its own generator seeded by (seed, i), so rows are generated in parallel and the set depends only on the seed.</remarks>
    public static float[][] NearlyUniform(int count, int dimensions, int centres, double spread, int seed)
    {
        var random = new Random(seed);
        var directions = new float[centres][];
        for (var c = 0; c < centres; c++)
        {
            directions[c] = Normalise(Enumerable.Range(0, dimensions).Select(_ => (float)Gaussian(random)).ToArray());
        }

        var vectors = new float[count][];
        Parallel.For(0, count, i =>
        {
            // Not HashCode.Combine: it is randomised per process.
            var row = new Random(unchecked((seed * 1_000_003) + i));
            var centre = directions[i % centres];
            var v = new float[dimensions];
            for (var d = 0; d < dimensions; d++)
            {
                v[d] = (float)(centre[d] + (spread * Gaussian(row)));
            }

            vectors[i] = Normalise(v);
        });
        return vectors;
    }

    /// <summary>
    /// Appends one <c>gallery.image_gallery</c> row per vector with binary COPY: path
    /// <c>{root}/c{cluster}/{i}.jpg</c> (cluster = i % <paramref name="clusters"/>), taken_at one minute
    /// apart from 2020-01-01; the vectors go into the active model's partition of <c>gallery.image_embeddings</c>
    /// (a gallery with no model yet gets the active model <c>synthetic</c>). Into an empty partition the vector
    /// indexes are dropped before the copy and, with <paramref name="buildIndexes"/>, built again after it.
    /// </summary>
    /// <returns>The ids of the rows, in the order of <paramref name="vectors"/>.</returns>
    public static async Task<long[]> LoadAsync(NpgsqlDataSource dataSource, IReadOnlyList<float[]> vectors, int clusters, string root = "/synthetic", bool buildIndexes = true, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var first = DateTime.SpecifyKind(new DateTime(2020, 1, 1), DateTimeKind.Utc);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY gallery.image_gallery (path, taken_at) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var i = 0; i < vectors.Count; i++)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync($"{root}/c{i % clusters:D3}/{i:D7}.jpg", NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(first.AddMinutes(i), NpgsqlDbType.TimestampTz, cancellationToken);
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
        var ids = Enumerable.Range(0, vectors.Count).Select(i => lookup[$"{root}/c{i % clusters:D3}/{i:D7}.jpg"]).ToArray();
        if (vectors.Count > 0)
        {
            var modelId = await ActiveModelAsync(connection, vectors[0].Length, cancellationToken);
            // Into an empty partition the vector indexes are built after the copy: fed row by row, HNSW builds far slower.
            var rebuild = new List<string>();
            await using (var indexes = new NpgsqlCommand(
                """
                SELECT c.relname, pg_get_indexdef(c.oid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
                WHERE i.indrelid = to_regclass('gallery.image_embeddings_m' || $1) AND am.amname IN ('hnsw', 'ivfflat')
                  AND NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e WHERE e.model_id = $1)
                """, connection) { Parameters = { new() { Value = modelId } } })
            await using (var reader = await indexes.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rebuild.Add(reader.GetString(0));
                    rebuild.Add(reader.GetString(1));
                }
            }

            for (var i = 0; i < rebuild.Count; i += 2)
            {
                await using var drop = new NpgsqlCommand($"DROP INDEX gallery.\"{rebuild[i]}\"", connection);
                await drop.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var writer = await connection.BeginBinaryImportAsync(
                "COPY gallery.image_embeddings (model_id, image_id, embedding) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                for (var i = 0; i < vectors.Count; i++)
                {
                    await writer.StartRowAsync(cancellationToken);
                    await writer.WriteAsync(modelId, NpgsqlDbType.Integer, cancellationToken);
                    await writer.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken);
                    await writer.WriteAsync(new Vector(vectors[i]), cancellationToken);
                }

                await writer.CompleteAsync(cancellationToken);
            }

            for (var i = 1; buildIndexes && i < rebuild.Count; i += 2)
            {
                await using var create = new NpgsqlCommand(rebuild[i], connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var analyzeEmbeddings = new NpgsqlCommand($"ANALYZE gallery.image_embeddings_m{modelId}", connection);
            await analyzeEmbeddings.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var analyze = new NpgsqlCommand("ANALYZE gallery.image_gallery", connection))
        {
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }

        return ids;
    }

    /// <summary>The active model's id (registering <c>synthetic</c> in a gallery with none); its dimension must be <paramref name="dimension"/>.</summary>
    public static async Task<int> ActiveModelAsync(NpgsqlConnection connection, int dimension, CancellationToken cancellationToken = default)
    {
        await using var command = new NpgsqlCommand("SELECT id, name, dimension FROM gallery.ensure_active_model('synthetic', $1)", connection)
        {
            Parameters = { new() { Value = dimension } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        if (reader.GetInt32(2) != dimension)
        {
            throw new InvalidOperationException(
                $"the active model {reader.GetString(1)} stores {reader.GetInt32(2)}-d embeddings, not {dimension}-d");
        }

        return reader.GetInt32(0);
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
