using SkiaSharp;

namespace DbFirst.Tests.Support;

/// <summary>Small images made on the fly, so tests ship no binary fixtures.</summary>
public static class TestImages
{
    /// <summary>Encodes a <paramref name="width"/>×<paramref name="height"/> image whose left half is red and right half blue.</summary>
    public static byte[] SplitRedBlue(int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg, byte alpha = 255)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alpha == 255 ? SKAlphaType.Opaque : SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.Transparent);
            using var red = new SKPaint { Color = new SKColor(255, 0, 0, alpha) };
            using var blue = new SKPaint { Color = new SKColor(0, 0, 255, alpha) };
            canvas.DrawRect(0, 0, width / 2f, height, red);
            canvas.DrawRect(width / 2f, 0, width - width / 2f, height, blue);
        }

        using var data = bitmap.Encode(format, 90);
        return data.ToArray();
    }

    /// <summary>Noise that JPEG cannot compress, to push an encoder over a size limit.</summary>
    public static byte[] Noise(int width, int height)
    {
        var random = new Random(42);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i & 3) == 3 ? (byte)255 : (byte)random.Next(256);
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Inserts an EXIF APP1 segment holding only an Orientation tag right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, // little-endian TIFF header, IFD0 at offset 8
            0x01, 0x00,                                               // one entry
            0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,           // tag 0x0112 Orientation, SHORT, count 1
            (byte)orientation, 0x00, 0x00, 0x00,                      // value
            0x00, 0x00, 0x00, 0x00,                                   // no next IFD
        ];
        var payload = new List<byte> { (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0 };
        payload.AddRange(tiff);
        var length = payload.Count + 2;
        var result = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        result.AddRange(payload);
        result.AddRange(jpeg.Skip(2));
        return [.. result];
    }

    /// <summary>The colour at a fraction of the way across and down a decoded image.</summary>
    public static SKColor ColourAt(byte[] encoded, double x, double y)
    {
        using var bitmap = SKBitmap.Decode(encoded);
        return bitmap.GetPixel((int)(x * (bitmap.Width - 1)), (int)(y * (bitmap.Height - 1)));
    }

    public static bool IsReddish(SKColor c) => c.Red > 180 && c.Blue < 90;

    public static bool IsBluish(SKColor c) => c.Blue > 180 && c.Red < 90;
}
