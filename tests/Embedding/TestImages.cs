using SkiaSharp;

namespace DbFirst.Tests.Embedding;

/// <summary>Writes real and hostile image files for the pipeline tests.</summary>
internal static class TestImages
{
    /// <summary>A JPEG of <paramref name="width"/>×<paramref name="height"/> with a gradient tinted by <paramref name="seed"/>.</summary>
    public static void WriteJpeg(string path, int width, int height, int seed, int quality = 85)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using (var canvas = new SKCanvas(bitmap))
        {
            var a = new SKColor((byte)(seed * 37 % 256), (byte)(seed * 91 % 256), (byte)(seed * 53 % 256));
            var b = new SKColor((byte)(255 - a.Red), (byte)(255 - a.Green), (byte)(seed % 256));
            using var paint = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height), [a, b], SKShaderTileMode.Clamp),
            };
            canvas.DrawRect(0, 0, width, height, paint);
        }

        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, quality);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
