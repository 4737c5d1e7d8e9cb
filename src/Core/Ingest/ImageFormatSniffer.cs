namespace DbFirst.Ingest;

/// <summary>
/// Recognises the image formats DbFirst ingests from a file's first bytes, never from its name:
/// a JPEG called <c>.png</c> is a JPEG, and a text file called <c>.jpg</c> is not an image.
/// </summary>
internal static class ImageFormatSniffer
{
    /// <summary>How many leading bytes <see cref="DetectMediaType"/> needs to tell every format apart.</summary>
    public const int HeaderLength = 32;

    // BITMAPINFOHEADER and its relatives: a "BM" file whose DIB header size is none of these is
    // far more likely to be text that starts with "BM" than a bitmap.
    private static readonly int[] BmpDibHeaderSizes = [12, 16, 40, 52, 56, 64, 108, 124];

    /// <summary>The media type (<c>image/jpeg</c>, …) of the file that starts with <paramref name="header"/>, or null.</summary>
    public static string? DetectMediaType(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (header.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        if (header.Length >= 18 && header.StartsWith("BM"u8)
            && Array.IndexOf(BmpDibHeaderSizes, BitConverter.ToInt32(header[14..18])) >= 0)
        {
            return "image/bmp";
        }

        return null;
    }
}
