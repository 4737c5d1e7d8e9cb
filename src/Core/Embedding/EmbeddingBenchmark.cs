using System.Diagnostics;
using DbFirst.Database;
using DbFirst.Samples;
using Npgsql;
using SkiaSharp;

namespace DbFirst.Embedding;

/// <summary>
/// Measures the embedding pipeline end to end (claim → preprocess → encode → write, real PostgreSQL) against its two
/// expensive parts alone: preprocessing on all cores and the bare encoder. The gap is the pipeline's own overhead.
/// Runs in a temporary database on the configured server, dropped afterwards.
/// </summary>
internal sealed class EmbeddingBenchmark
{
    private readonly IImageEmbedder _embedder;
    private readonly EmbeddingOptions _options;

    public EmbeddingBenchmark(IImageEmbedder embedder, EmbeddingOptions options)
    {
        _embedder = embedder;
        _options = options;
    }

    /// <summary>Writes <paramref name="count"/> distinct photo-like JPEGs (kept between runs) and returns their paths.</summary>
    public static IReadOnlyList<string> EnsureImages(string directory, int count, int width, int height)
    {
        Directory.CreateDirectory(directory);
        var paths = Enumerable.Range(0, count).Select(i => Path.Combine(directory, $"bench-{width}x{height}-{i:D5}.jpg")).ToList();
        var missing = paths.Where(p => !File.Exists(p)).ToList();
        if (missing.Count == 0)
        {
            return paths;
        }

        using var background = SyntheticPhoto.Render(width, height);
        Parallel.ForEach(missing, path =>
        {
            // Each image: the grainy background plus a patch of its own, so files differ as photos do.
            var seed = path.GetHashCode(StringComparison.Ordinal);
            using var bitmap = background.Copy();
            using (var canvas = new SKCanvas(bitmap))
            {
                var random = new Random(seed);
                using var paint = new SKPaint { Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)) };
                canvas.DrawCircle(random.Next(width), random.Next(height), random.Next(height / 8, height / 2), paint);
            }

            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
            var temporary = path + ".tmp";
            using (var file = File.Create(temporary))
            {
                data.SaveTo(file);
            }

            File.Move(temporary, path, overwrite: true);
        });
        return paths;
    }

    /// <summary>Runs the three measurements over <paramref name="images"/> in a temporary database next to <paramref name="connectionString"/>'s.</summary>
    public async Task<EmbeddingBenchmarkResult> RunAsync(string connectionString, IReadOnlyList<string> images, Action<string> log, CancellationToken cancellationToken = default)
    {
        var sample = images.Take(Math.Min(images.Count, 256)).ToList();
        log($"preprocessing {sample.Count} images on {_options.PreprocessParallelism} threads...");
        var clock = Stopwatch.StartNew();
        var tensors = new float[sample.Count][];
        Parallel.For(0, sample.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.PreprocessParallelism, CancellationToken = cancellationToken },
            i => tensors[i] = _embedder.Preprocess(sample[i]));
        var preprocessPerSecond = sample.Count / clock.Elapsed.TotalSeconds;

        log($"encoding {sample.Count} images in batches of {_options.BatchSize}...");
        clock.Restart();
        foreach (var chunk in tensors.Chunk(_options.BatchSize))
        {
            _embedder.Encode(chunk);
        }

        var encodePerSecond = sample.Count / clock.Elapsed.TotalSeconds;

        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var name = $"dbfirst_bench_{Guid.NewGuid():N}"[..28];
        await ExecuteAsync(connectionString, $"CREATE DATABASE {name}", cancellationToken);
        try
        {
            builder.Database = name;
            await new GalleryMigrator(builder.ConnectionString).MigrateUpAsync(cancellationToken: cancellationToken);
            await using var dataSource = GalleryDataSource.Create(builder.ConnectionString);
            await using (var insert = dataSource.CreateCommand("INSERT INTO gallery.image_gallery (path) SELECT unnest(@paths)"))
            {
                insert.Parameters.AddWithValue("paths", images.ToArray());
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            log($"embedding {images.Count} rows through the pipeline...");
            var result = await new EmbeddingPipeline(dataSource, _embedder, _options).RunAsync(new EmbeddingRequest(), progress: null, cancellationToken);
            return new EmbeddingBenchmarkResult(
                DateTimeOffset.UtcNow, _embedder.ModelName, _embedder.IsTestModel, Environment.ProcessorCount, images.Count,
                _options.BatchSize, preprocessPerSecond, encodePerSecond, result.RowsPerSecond, result.Embedded, result.Elapsed.TotalSeconds);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await DatabaseDropper.DropAsync(connectionString, name, CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
