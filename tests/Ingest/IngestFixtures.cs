using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Ingest;

/// <summary>Image files made in code, good and hostile, for ingest tests.</summary>
internal static class IngestFixtures
{
    // A 16×16 four-component (Adobe CMYK) baseline JPEG; SkiaSharp cannot encode CMYK, so its bytes are spelled out.
    private const string CmykJpegBase64 =
        "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/9sA" +
        "QwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK/8AAFAgAEAAQBAERAAIRAQMRAQQRAP/E" +
        "ABYAAQEBAAAAAAAAAAAAAAAAAAAICf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAWAQEBAQAAAAAAAAAAAAAAAAAACAr/xAAUEQEAAAAAAAAAAAAAAAAAAAAA" +
        "/9oADgQBAAIRAxEEAAA/ALMVYz/t/AAAAH//2Q==";

    public static byte[] CmykJpeg => Convert.FromBase64String(CmykJpegBase64);

    /// <summary>A picture whose pixels depend on <paramref name="seed"/>, so different seeds give different files.</summary>
    public static SKBitmap Picture(int width, int height, int seed = 0)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)(seed * 37)));
            }
        }

        return bitmap;
    }

    public static byte[] Jpeg(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Jpeg);

    public static byte[] Png(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Png);

    public static byte[] Webp(int width, int height, int seed = 0) => Encode(width, height, seed, SKEncodedImageFormat.Webp);

    /// <summary>A JPEG whose EXIF says orientation 6 (stored sideways) and gives a capture time with an offset.</summary>
    public static byte[] RotatedJpegWithCaptureTime(int storedWidth, int storedHeight, string dateTimeOriginal, string offsetTimeOriginal)
    {
        var jpeg = Jpeg(storedWidth, storedHeight, seed: 5);
        var exif = ExifSegment(orientation: 6, dateTimeOriginal, offsetTimeOriginal);
        return [.. jpeg.AsSpan(0, 2), .. exif, .. jpeg.AsSpan(2)];
    }

    /// <summary>A PNG whose header claims <paramref name="width"/>×<paramref name="height"/> with one tiny IDAT: a decompression bomb by its header.</summary>
    public static byte[] PngWithHeader(int width, int height, byte bitDepth = 8, byte colourType = 2, int rowsOfData = 1)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        ImageFixtures.WriteChunk(stream, "IHDR", ihdr);
        var channels = colourType switch { 2 => 3, 6 => 4, 4 => 2, _ => 1 };
        var rowBytes = 1 + ((width * channels * bitDepth) + 7) / 8;
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                var row = new byte[rowBytes];
                for (var i = 0; i < rowsOfData; i++)
                {
                    zlib.Write(row);
                }
            }

            ImageFixtures.WriteChunk(stream, "IDAT", compressed.ToArray());
        }

        ImageFixtures.WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>A complete 16-bit-per-channel RGB PNG.</summary>
    public static byte[] Png16Bit(int width, int height) => PngWithHeader(width, height, bitDepth: 16, colourType: 2, rowsOfData: height);

    /// <summary>A two-frame animated GIF on a 3×2 canvas (NETSCAPE2.0 loop, one-pixel frames).</summary>
    public static byte[] AnimatedGif()
    {
        var gif = new List<byte>();
        gif.AddRange("GIF89a"u8.ToArray());
        gif.AddRange([3, 0, 2, 0, 0x80, 0, 0]);            // 3×2 canvas, 2-colour global table
        gif.AddRange([0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00]);
        gif.AddRange([0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8.ToArray(), 0x03, 0x01, 0x00, 0x00, 0x00]);
        for (var frame = 0; frame < 2; frame++)
        {
            gif.AddRange([0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00]);                      // 100 ms per frame
            gif.AddRange([0x2C, (byte)frame, 0, (byte)frame, 0, 1, 0, 1, 0, 0x00]);               // 1×1 frame at (frame, frame)
            gif.AddRange([0x02, 0x02, 0x44, 0x01, 0x00]);                                          // LZW: clear, index 0, end
        }

        gif.Add(0x3B);
        return [.. gif];
    }

    /// <summary>An uncompressed 24-bit BMP (SkiaSharp encodes no BMP).</summary>
    public static byte[] Bmp(int width, int height)
    {
        var rowSize = (width * 3 + 3) & ~3;
        var pixels = rowSize * height;
        var bmp = new byte[54 + pixels];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), pixels);
        for (var i = 54; i < bmp.Length; i++)
        {
            bmp[i] = (byte)(i * 7);
        }

        return bmp;
    }

    private static byte[] Encode(int width, int height, int seed, SKEncodedImageFormat format)
    {
        using var bitmap = Picture(width, height, seed);
        using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}");
        return data.ToArray();
    }

    // APP1 "Exif": a little-endian TIFF with IFD0 {Orientation, ExifIFD pointer} and an Exif IFD {DateTimeOriginal, OffsetTimeOriginal}.
    private static byte[] ExifSegment(ushort orientation, string dateTimeOriginal, string offsetTimeOriginal)
    {
        var date = Encoding.ASCII.GetBytes(dateTimeOriginal + "\0");
        var offset = Encoding.ASCII.GetBytes(offsetTimeOriginal + "\0");
        const int ifd0At = 8;
        const int ifd0Size = 2 + 2 * 12 + 4;
        const int exifIfdAt = ifd0At + ifd0Size;
        const int exifIfdSize = 2 + 2 * 12 + 4;
        var dateAt = exifIfdAt + exifIfdSize;
        var offsetAt = dateAt + date.Length;
        var tiff = new byte[offsetAt + offset.Length];
        "II"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(2), 42);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), ifd0At);

        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(ifd0At), 2);
        WriteIfdEntry(tiff, ifd0At + 2, tag: 0x0112, type: 3, count: 1, value: orientation);
        WriteIfdEntry(tiff, ifd0At + 14, tag: 0x8769, type: 4, count: 1, value: exifIfdAt);

        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(exifIfdAt), 2);
        WriteIfdEntry(tiff, exifIfdAt + 2, tag: 0x9003, type: 2, count: (uint)date.Length, value: (uint)dateAt);
        WriteIfdEntry(tiff, exifIfdAt + 14, tag: 0x9011, type: 2, count: (uint)offset.Length, value: (uint)offsetAt);
        date.CopyTo(tiff, dateAt);
        offset.CopyTo(tiff, offsetAt);

        var payload = (byte[])[.. "Exif\0\0"u8.ToArray(), .. tiff];
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return segment;
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
