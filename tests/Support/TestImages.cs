using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace DbFirst.Tests.Support;

/// <summary>Images made on the fly, so tests ship no binary fixtures beyond the few SkiaSharp cannot make.</summary>
public static class TestImages
{
    /// <summary>A gradient whose blue channel depends on <paramref name="seed"/>, so different seeds give different files.</summary>
    public static SKBitmap Picture(int width, int height, int seed = 0) =>
        Paint(width, height, SKAlphaType.Opaque, (x, y) =>
            new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)(seed * 37)));

    public static byte[] Jpeg(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Jpeg);

    public static byte[] Png(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Png);

    public static byte[] Webp(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Webp);

    /// <summary>Writes <see cref="Jpeg"/> to <paramref name="path"/>, for tests that hand the runner a folder of photos.</summary>
    public static void WriteJpeg(string path, int width, int height, int seed) => File.WriteAllBytes(path, Jpeg(width, height, seed));

    /// <summary>A gradient with a 40-pixel checkerboard in blue, so resizing and cropping leave visible structure.</summary>
    public static SKBitmap Gradient(int width, int height) =>
        Paint(width, height, SKAlphaType.Unpremul, (x, y) =>
            new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x / 40 + y / 40) % 2 * 200)));

    public static byte[] EncodeJpeg(SKBitmap bitmap, int quality = 90)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

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
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation) => WithExif(jpeg, orientation, capture: null);

    /// <summary>A JPEG whose EXIF says orientation 6 (stored sideways) and gives a capture time with an offset.</summary>
    public static byte[] RotatedJpegWithCaptureTime(int storedWidth, int storedHeight, string dateTimeOriginal, string offsetTimeOriginal) =>
        WithExif(Jpeg(storedWidth, storedHeight, seed: 5), orientation: 6, (dateTimeOriginal, offsetTimeOriginal));

    /// <summary>The colour at a fraction of the way across and down a decoded image.</summary>
    public static SKColor ColourAt(byte[] encoded, double x, double y)
    {
        using var bitmap = SKBitmap.Decode(encoded);
        return bitmap.GetPixel((int)(x * (bitmap.Width - 1)), (int)(y * (bitmap.Height - 1)));
    }

    public static bool IsReddish(SKColor c) => c.Red > 180 && c.Blue < 90;

    public static bool IsBluish(SKColor c) => c.Blue > 180 && c.Red < 90;

    // Opaque RGBA pixels written straight into the bitmap: SetPixel per pixel is slow for the 2400×1800 gradients.
    private static SKBitmap Paint(int width, int height, SKAlphaType alphaType, Func<int, int, SKColor> colourAt)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, alphaType));
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var colour = colourAt(x, y);
                var i = (y * width + x) * 4;
                pixels[i] = colour.Red;
                pixels[i + 1] = colour.Green;
                pixels[i + 2] = colour.Blue;
                pixels[i + 3] = 255;
            }
        }

        return bitmap;
    }

    private static byte[] Encode(int width, int height, int seed, SKEncodedImageFormat format)
    {
        using var bitmap = Picture(width, height, seed);
        using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}");
        return data.ToArray();
    }

    // APP1 "Exif" right after SOI: a little-endian TIFF whose IFD0 holds Orientation and, when a capture time is given,
    // a pointer to an Exif IFD with DateTimeOriginal and OffsetTimeOriginal.
    private static byte[] WithExif(byte[] jpeg, ushort orientation, (string DateTimeOriginal, string OffsetTimeOriginal)? capture)
    {
        var date = capture is null ? [] : Encoding.ASCII.GetBytes(capture.Value.DateTimeOriginal + "\0");
        var offset = capture is null ? [] : Encoding.ASCII.GetBytes(capture.Value.OffsetTimeOriginal + "\0");
        var ifd0Entries = capture is null ? 1 : 2;
        const int ifd0At = 8;
        var exifIfdAt = ifd0At + 2 + ifd0Entries * 12 + 4;
        var exifIfdSize = capture is null ? 0 : 2 + 2 * 12 + 4;
        var dateAt = exifIfdAt + exifIfdSize;
        var offsetAt = dateAt + date.Length;
        var tiff = new byte[offsetAt + offset.Length];
        "II"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), ifd0At);

        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(ifd0At), (ushort)ifd0Entries);
        WriteIfdEntry(tiff, ifd0At + 2, tag: 0x0112, type: 3, count: 1, value: orientation);
        if (capture is not null)
        {
            WriteIfdEntry(tiff, ifd0At + 14, tag: 0x8769, type: 4, count: 1, value: (uint)exifIfdAt);
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(exifIfdAt), 2);
            WriteIfdEntry(tiff, exifIfdAt + 2, tag: 0x9003, type: 2, count: (uint)date.Length, value: (uint)dateAt);
            WriteIfdEntry(tiff, exifIfdAt + 14, tag: 0x9011, type: 2, count: (uint)offset.Length, value: (uint)offsetAt);
            date.CopyTo(tiff, dateAt);
            offset.CopyTo(tiff, offsetAt);
        }

        var payload = (byte[])[.. "Exif\0\0"u8.ToArray(), .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    private static void WriteIfdEntry(byte[] tiff, int at, ushort tag, ushort type, uint count, uint value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at), tag);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at + 2), type);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(at + 4), count);
        if (type == 3)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at + 8), (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(at + 8), value);
        }
    }
}
