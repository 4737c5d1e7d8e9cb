using SkiaSharp;

namespace DbFirst.Testing;

/// <summary>
/// A photo-like bitmap for benchmarks: smooth gradients, a wave and per-pixel grain, so a JPEG of it costs
/// what a real photo costs to decode (flat colour would make decoding unrealistically cheap).
/// </summary>
internal static class SyntheticPhoto
{
    /// <summary>Renders a <paramref name="width"/> × <paramref name="height"/> opaque RGBA bitmap; the caller disposes it.</summary>
    public static SKBitmap Render(int width, int height)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        var random = new Random(width ^ height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = (y * width + x) * 4;
                var grain = random.Next(-12, 13);
                var wave = (int)(40 * Math.Sin(x * 0.013) * Math.Cos(y * 0.009));
                pixels[i] = (byte)Math.Clamp(x * 200 / width + wave + grain, 0, 255);
                pixels[i + 1] = (byte)Math.Clamp(y * 200 / height - wave + grain, 0, 255);
                pixels[i + 2] = (byte)Math.Clamp(((x / 97) + (y / 61)) % 3 * 90 + grain, 0, 255);
                pixels[i + 3] = 255;
            }
        }

        return bitmap;
    }
}
