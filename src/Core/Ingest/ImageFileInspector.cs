using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using DbFirst.Files;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.WebP;
using SkiaSharp;

namespace DbFirst.Ingest;

/// <summary>
/// Reads what ingest needs from one file: the magic number, a streamed SHA-256, the dimensions from the header
/// (SkiaSharp's codec, which parses the header without decoding pixels) and the EXIF capture time.
/// Whether the pixels decode is the embed step's question: a JPEG cut inside its scan data is registered here.
/// </summary>
internal static class ImageFileInspector
{
    private const int ReadBlockSize = 128 * 1024;

    // EXIF 2.31 OffsetTimeOriginal; MetadataExtractor 2.4.3 keeps the tag but names no constant for it.
    private const int ExifTagOffsetTimeOriginal = 0x9011;

    public static ScannedEntry Inspect(string path, long length)
    {
        // Pipes, sockets and devices list with length 0 as well; opening a pipe would block, so nothing of length 0 is opened.
        if (length == 0)
        {
            return new ScannedEntry(path, ScanOutcome.Unsupported);
        }

        try
        {
            // The listing said "regular file", but it may have been swapped for a FIFO since: open without blocking
            // and check what was opened.
            using var handle = NativeFile.OpenReadNonBlocking(path);
            if (NativeFile.FStat(handle).Kind != FileKind.Regular)
            {
                return new ScannedEntry(path, ScanOutcome.Unsupported);
            }

            using var stream = new FileStream(handle, FileAccess.Read, ReadBlockSize);
            return InspectStream(path, stream);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return new ScannedEntry(path, ScanOutcome.Failed, Error: exception.Message);
        }
        catch (Exception exception) when (exception is not OperationCanceledException and not OutOfMemoryException)
        {
            // One odd file must never stop the batch; what it did goes into the report.
            return new ScannedEntry(path, ScanOutcome.Failed, Error: $"{exception.GetType().Name}: {exception.Message}");
        }
    }

    private static ScannedEntry InspectStream(string path, FileStream stream)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBlockSize);
        try
        {
            var headerLength = stream.ReadAtLeast(buffer.AsSpan(0, ImageFormatSniffer.HeaderLength), ImageFormatSniffer.HeaderLength, throwOnEndOfStream: false);
            var mediaType = ImageFormatSniffer.DetectMediaType(buffer.AsSpan(0, headerLength));
            if (mediaType is null)
            {
                return new ScannedEntry(path, ScanOutcome.Unsupported);
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(buffer, 0, headerLength);
            long size = headerLength;
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                size += read;
            }

            var sha256 = hash.GetHashAndReset();
            stream.Position = 0;
            if (ReadDimensions(stream, out var error) is not var (width, height))
            {
                return new ScannedEntry(path, ScanOutcome.Failed, Error: $"unreadable {mediaType} header: {error}");
            }

            stream.Position = 0;
            var takenAt = ReadCaptureTime(stream, mediaType);
            return new ScannedEntry(path, ScanOutcome.Image, new ImageFacts(sha256, size, width, height, mediaType, takenAt));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static (int Width, int Height)? ReadDimensions(Stream stream, out string error)
    {
        using var skiaStream = new SKManagedStream(stream, disposeManagedStream: false);
        using var codec = SKCodec.Create(skiaStream, out var result);
        if (codec is null)
        {
            error = DescribeCodecResult(result);
            return null;
        }

        error = string.Empty;
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            error = $"header gives {info.Width}x{info.Height}";
            return null;
        }

        // Orientations 5-8 turn the picture a quarter: what a viewer shows is the stored image transposed.
        return codec.EncodedOrigin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom
            ? (info.Height, info.Width)
            : (info.Width, info.Height);
    }

    private static string DescribeCodecResult(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "truncated or corrupt",
        SKCodecResult.Unimplemented => "a variant the decoder does not support",
        SKCodecResult.InvalidInput => "invalid",
        _ => result.ToString(),
    };

    // The capture time is a nicety: metadata that does not parse leaves it empty rather than failing the image.
    private static DateTime? ReadCaptureTime(Stream stream, string mediaType)
    {
        try
        {
            IEnumerable<MetadataExtractor.Directory> directories = mediaType switch
            {
                "image/jpeg" => JpegMetadataReader.ReadMetadata(stream, [new ExifReader()]),
                "image/png" => PngMetadataReader.ReadMetadata(stream),
                "image/webp" => WebPMetadataReader.ReadMetadata(stream),
                _ => [],
            };

            var list = directories as IReadOnlyList<MetadataExtractor.Directory> ?? directories.ToList();
            var subIfd = list.OfType<ExifSubIfdDirectory>().FirstOrDefault();
            if (subIfd is not null && subIfd.TryGetDateTime(ExifDirectoryBase.TagDateTimeOriginal, out var original))
            {
                return ToUtc(original, subIfd.GetString(ExifTagOffsetTimeOriginal));
            }

            var ifd0 = list.OfType<ExifIfd0Directory>().FirstOrDefault();
            return ifd0 is not null && ifd0.TryGetDateTime(ExifDirectoryBase.TagDateTime, out var modified)
                ? ToUtc(modified, null)
                : null;
        }
        catch (Exception exception) when (exception is ImageProcessingException or IOException or ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static DateTime ToUtc(DateTime local, string? offset)
    {
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (offset is { Length: 6 } && offset[0] is '+' or '-'
            && TimeSpan.TryParseExact(offset[1..], @"hh\:mm", CultureInfo.InvariantCulture, out var span)
            && span <= TimeSpan.FromHours(14))
        {
            return new DateTimeOffset(unspecified, offset[0] == '-' ? -span : span).UtcDateTime;
        }

        return DateTime.SpecifyKind(unspecified, DateTimeKind.Utc);
    }
}
