using SkiaSharp;

namespace DbFirst.Samples;

/// <summary>
/// Writes one photo-sized JPEG per colour word the offline model (models/tiny-clip) understands, so an offline demo
/// has images whose right answer is obvious: "a red photo" should find <c>red.jpg</c> first.
/// </summary>
public static class ColourSampleWriter
{
    private const int Width = 640;
    private const int Height = 480;
    private const int JpegQuality = 90;

    /// <summary>The colours, with the sRGB value each image is painted in.</summary>
    public static IReadOnlyDictionary<string, SKColor> Colours { get; } = new Dictionary<string, SKColor>
    {
        ["red"] = new(220, 30, 30),
        ["green"] = new(40, 170, 60),
        ["blue"] = new(30, 60, 210),
        ["yellow"] = new(240, 220, 40),
        ["white"] = new(245, 245, 245),
        ["black"] = new(15, 15, 15),
        ["orange"] = new(245, 140, 20),
        ["purple"] = new(130, 40, 170),
    };

    /// <summary>
    /// Writes <c>&lt;colour&gt;.jpg</c> for every colour into <paramref name="folder"/>, plus
    /// <c>&lt;colour&gt;-NNN.jpg</c> variants when <paramref name="perColour"/> is above 1; returns the paths.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(string folder, int perColour = 1, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perColour);
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        foreach (var (name, colour) in Colours)
        {
            for (var variant = 0; variant < perColour; variant++)
            {
                var path = Path.Combine(folder, variant == 0 ? $"{name}.jpg" : $"{name}-{variant:D3}.jpg");
                await File.WriteAllBytesAsync(path, Render(colour, variant), cancellationToken);
                paths.Add(path);
            }
        }

        return paths;
    }

    // A soft vignette and a few shapes in lighter and darker shades keep the image photo-like while its
    // mean colour stays the named one.
    private static byte[] Render(SKColor colour, int variant)
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = surface.Canvas;
        canvas.Clear(colour);
        using var paint = new SKPaint { IsAntialias = true };
        var random = new Random(HashCode.Combine(colour.Red, colour.Green, colour.Blue, variant));
        for (var i = 0; i < 6; i++)
        {
            var shade = (float)(random.NextDouble() * 0.3 - 0.15);
            paint.Color = Shade(colour, shade).WithAlpha(160);
            canvas.DrawCircle(random.Next(Width), random.Next(Height), random.Next(30, 140), paint);
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, JpegQuality);
        return data.ToArray();
    }

    private static SKColor Shade(SKColor colour, float amount)
    {
        static byte Adjust(byte channel, float amount) => (byte)Math.Clamp(channel + amount * 255, 0, 255);
        return new SKColor(Adjust(colour.Red, amount), Adjust(colour.Green, amount), Adjust(colour.Blue, amount));
    }
}
