using DbFirst.Files;
using DbFirst.Imaging;
using SkiaSharp;

namespace DbFirst.Claude;

/// <summary>
/// Turns an image file into what Claude should see: EXIF orientation applied (Claude reads no metadata), transparency
/// flattened onto white, the long edge at most <see cref="MaxLongEdge"/> pixels and re-encoded as JPEG at the highest
/// quality whose base64 text stays under the API's 5 MB limit. Smaller images also cost fewer input tokens.
/// </summary>
/// <remarks>Thread-safe: it holds only its limits.</remarks>
internal sealed class ClaudeImagePreparer
{
    /// <summary>Anthropic's vision guide: images whose long edge exceeds 1568 px are scaled down by the API anyway.</summary>
    public const int MaxLongEdge = 1568;

    /// <summary>The API's limit is 5 MB per image counted on the base64 text; this stays a little under it (≈3.75 MB of JPEG).</summary>
    public const long MaxBase64Length = 5_000_000;

    private static readonly int[] s_qualities = [85, 75, 65, 55, 45, 35];

    private readonly long _maxBase64Length;
    private readonly OrientedImageDecoder _decoder = new();
    private readonly IngestedFileReader _reader;

    public ClaudeImagePreparer(long maxBase64Length = MaxBase64Length, IngestedFileReader? reader = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBase64Length);
        _maxBase64Length = maxBase64Length;
        _reader = reader ?? new IngestedFileReader();
    }

    /// <summary>
    /// Reads <paramref name="path"/> through <see cref="IngestedFileReader"/> (regular files only, never blocking, size
    /// cap, read timeout) and prepares it. Without the row's recorded size and hash a link at the path is refused;
    /// prefer <see cref="PrepareAsync(IngestedFile, CancellationToken)"/> when the row is at hand.
    /// </summary>
    /// <exception cref="ImagePreparationException">The file is not an image SkiaSharp can decode, or is too large to decode.</exception>
    /// <exception cref="IOException">The file could not be read or was refused (<see cref="FileReadException"/> says whether a retry may help).</exception>
    public Task<PreparedImage> PrepareAsync(string path, CancellationToken cancellationToken = default) =>
        PrepareAsync(new IngestedFile(path), cancellationToken);

    /// <summary>As <see cref="PrepareAsync(string, CancellationToken)"/>, checking the file is still the one ingested (size, hash, link).</summary>
    public async Task<PreparedImage> PrepareAsync(IngestedFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);

        // The reader blocks its caller for at most its timeout; keep that off the caller's async context.
        var bytes = await Task.Run(() => _reader.ReadBytes(file, cancellationToken), cancellationToken);
        return Prepare(bytes, Path.GetFileName(file.Path));
    }

    /// <inheritdoc cref="PrepareAsync(IngestedFile, CancellationToken)"/>
    public PreparedImage Prepare(byte[] encoded, string name)
    {
        using var upright = DecodeUpright(encoded, name);
        var longEdge = Math.Max(upright.Width, upright.Height);
        var scale = longEdge > MaxLongEdge ? (double)MaxLongEdge / longEdge : 1.0;
        while (true)
        {
            var width = Math.Max(1, (int)Math.Round(upright.Width * scale));
            var height = Math.Max(1, (int)Math.Round(upright.Height * scale));
            using var flattened = Flatten(upright, width, height);
            foreach (var quality in s_qualities)
            {
                using var data = flattened.Encode(SKEncodedImageFormat.Jpeg, quality)
                    ?? throw new ImagePreparationException($"{name}: JPEG encoding failed");
                var jpeg = data.ToArray();
                var prepared = new PreparedImage(jpeg, width, height, quality);
                if (prepared.Base64Length < _maxBase64Length)
                {
                    return prepared;
                }
            }

            // Even the lowest quality is too large: a noisy image at full size. Fewer pixels always fit eventually.
            scale *= 0.75;
        }
    }

    // OrientedImageDecoder undoes the EXIF orientation and refuses decompression bombs from the header. Asking for a
    // short side of at least MaxLongEdge lets it decode camera JPEGs at a libjpeg n/8 scale that is still large enough.
    private SKBitmap DecodeUpright(byte[] encoded, string name)
    {
        try
        {
            return _decoder.Decode(encoded, name, minShortSide: MaxLongEdge);
        }
        catch (ImageDecodeException exception)
        {
            throw new ImagePreparationException(exception.Message, exception);
        }
    }

    // JPEG has no alpha: draw onto white (what a viewer shows behind a transparent PNG) while scaling.
    private static SKImage Flatten(SKBitmap upright, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using var surface = SKSurface.Create(info) ?? throw new ImagePreparationException("cannot allocate the resized image");
        surface.Canvas.Clear(SKColors.White);
        using var image = SKImage.FromBitmap(upright);
        var sampling = width == upright.Width && height == upright.Height
            ? new SKSamplingOptions(SKFilterMode.Nearest)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);
        surface.Canvas.DrawImage(image, new SKRect(0, 0, width, height), sampling);
        return surface.Snapshot();
    }
}
