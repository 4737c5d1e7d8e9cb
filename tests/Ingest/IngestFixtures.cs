using System.Buffers.Binary;

namespace DbFirst.Tests.Ingest;

/// <summary>Image files in formats SkiaSharp cannot encode (CMYK JPEG, animated GIF, BMP), spelled out byte by byte.</summary>
internal static class IngestFixtures
{
    // A 16×16 four-component (Adobe CMYK) baseline JPEG; SkiaSharp cannot encode CMYK, so its bytes are spelled out.
    private const string CmykJpegBase64 =
        "/9j/7gAOQWRvYmUAZAAAAAAC/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/9sA" +
        "QwECAgICAgIFAwMFCgcGBwoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoK/8AAFAgAEAAQBAERAAIRAQMRAQQRAP/E" +
        "ABYAAQEBAAAAAAAAAAAAAAAAAAAICf/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAWAQEBAQAAAAAAAAAAAAAAAAAACAr/xAAUEQEAAAAAAAAAAAAAAAAAAAAA" +
        "/9oADgQBAAIRAxEEAAA/ALMVYz/t/AAAAH//2Q==";

    public static byte[] CmykJpeg => Convert.FromBase64String(CmykJpegBase64);

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
}
