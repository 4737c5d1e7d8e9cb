using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace DbFirst.Tests.Support;

/// <summary>PNGs built chunk by chunk, for headers SkiaSharp would never write (decompression bombs, 16-bit RGB).</summary>
internal static class TestPng
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// A PNG whose IHDR claims <paramref name="width"/>×<paramref name="height"/> but whose IDAT holds only
    /// <paramref name="rowsOfData"/> rows: with the defaults, a decompression bomb by its header.
    /// </summary>
    public static byte[] WithHeader(int width, int height, byte bitDepth = 8, byte colourType = 2, int rowsOfData = 1)
    {
        using var stream = new MemoryStream();
        stream.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        WriteChunk(stream, "IHDR", ihdr);
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

            WriteChunk(stream, "IDAT", compressed.ToArray());
        }

        WriteChunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>A complete 16-bit-per-channel RGB PNG (SkiaSharp encodes 8-bit only).</summary>
    public static byte[] Rgb16(int width, int height) => WithHeader(width, height, bitDepth: 16, colourType: 2, rowsOfData: height);

    // One chunk: big-endian length, type, data, then the CRC-32 of type and data.
    private static void WriteChunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. typeBytes, .. data]));
        stream.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
