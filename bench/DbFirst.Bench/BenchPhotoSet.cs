using System.Diagnostics;
using SkiaSharp;

namespace DbFirst.Bench;

/// <summary>
/// A folder of generated 2-megapixel JPEGs for benchmarks, made once and reused: each is a seeded mix of
/// gradients, shapes and grain, so files differ and compress like photos rather than flat colour.
/// <c>bench ingest</c> and <c>bench embed</c> share it, so one cache serves both.
/// </summary>
internal static class BenchPhotoSet
{
    /// <summary>1632 × 1224 = 2.0 megapixels, 4:3 like a phone photo.</summary>
    public const int Width = 1632;

    /// <inheritdoc cref="Width"/>
    public const int Height = 1224;

    private const int JpegQuality = 85;

    /// <summary>The shared cache: kept between runs in the system's temporary folder.</summary>
    public static string DefaultFolder { get; } = Path.Combine(Path.GetTempPath(), "dbfirst-bench", "jpeg-2mp");

    /// <summary>
    /// Makes sure <paramref name="folder"/> holds photos 0 to <paramref name="count"/> − 1, saying on
    /// <paramref name="log"/> whether they were cached or made; returns their paths.
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(string folder, int count, Action<string> log, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(folder);
        var missing = Enumerable.Range(0, count).Where(i => !File.Exists(PathOf(folder, i))).ToList();
        await Parallel.ForEachAsync(missing, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, async (index, token) =>
        {
            var bytes = Render(index);
            var temporary = PathOf(folder, index) + ".tmp";
            await File.WriteAllBytesAsync(temporary, bytes, token);
            File.Move(temporary, PathOf(folder, index), overwrite: true);
        });
        log(missing.Count == 0
            ? $"using {count} cached photos in {folder}"
            : $"generated {missing.Count} photos in {folder} ({clock.Elapsed.TotalSeconds:F0} s)");
        return [.. Enumerable.Range(0, count).Select(i => PathOf(folder, i))];
    }

    private static string PathOf(string folder, int index) => Path.Combine(folder, $"photo-{index:D5}.jpg");

    private static byte[] Render(int seed)
    {
        var random = new Random(seed);
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = surface.Canvas;
        using (var background = new SKPaint())
        {
            background.Shader = SKShader.CreateLinearGradient(
                new SKPoint(0, 0), new SKPoint(Width, Height),
                [RandomColour(random), RandomColour(random), RandomColour(random)], SKShaderTileMode.Clamp);
            canvas.DrawRect(0, 0, Width, Height, background);
        }

        using var paint = new SKPaint { IsAntialias = true };
        for (var i = 0; i < 12; i++)
        {
            paint.Color = RandomColour(random).WithAlpha((byte)random.Next(60, 200));
            canvas.DrawCircle(random.Next(Width), random.Next(Height), random.Next(20, 300), paint);
        }

        // Grain from a small random tile repeated over the frame: photo-like JPEG sizes without per-pixel work at 2 MP.
        using (var grain = NoiseTile(random))
        using (var texture = new SKPaint())
        {
            texture.Shader = grain.ToShader(SKShaderTileMode.Repeat, SKShaderTileMode.Repeat);
            texture.BlendMode = SKBlendMode.Overlay;
            texture.Color = SKColors.White.WithAlpha(80);
            canvas.DrawRect(0, 0, Width, Height, texture);
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, JpegQuality);
        return data.ToArray();
    }

    private static SKBitmap NoiseTile(Random random)
    {
        const int Size = 97;
        var tile = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = tile.GetPixelSpan();
        random.NextBytes(pixels);
        for (var i = 3; i < pixels.Length; i += 4)
        {
            pixels[i] = 255;
        }

        return tile;
    }

    private static SKColor RandomColour(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
}
