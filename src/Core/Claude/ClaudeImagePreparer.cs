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

    /// <summary>Largest width × height decoded, so a decompression bomb fails from its header.</summary>
    public const long MaxPixels = 100_000_000;

    private static readonly int[] s_qualities = [85, 75, 65, 55, 45, 35];

    private readonly long _maxBase64Length;

    public ClaudeImagePreparer(long maxBase64Length = MaxBase64Length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBase64Length);
        _maxBase64Length = maxBase64Length;
    }

    /// <exception cref="ImagePreparationException">The file is not an image SkiaSharp can decode, or is too large.</exception>
    /// <exception cref="IOException">The file could not be read (may succeed later).</exception>
    public async Task<PreparedImage> PrepareAsync(string path, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        return Prepare(bytes, Path.GetFileName(path));
    }

    /// <inheritdoc cref="PrepareAsync"/>
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

    // Decodes with the EXIF orientation undone. JPEGs are decoded at the smallest libjpeg scale (n/8) that still
    // leaves the long edge above MaxLongEdge, which saves most of the work on camera photos.
    private static SKBitmap DecodeUpright(byte[] encoded, string name)
    {
        if (encoded.Length == 0)
        {
            throw new ImagePreparationException($"{name}: the file is empty");
        }

        using var codec = SKCodec.Create(new SKMemoryStream(encoded), out var createResult)
            ?? throw new ImagePreparationException($"{name}: not a recognised image format ({createResult})");
        var declared = codec.Info;
        if (declared.Width <= 0 || declared.Height <= 0 || (long)declared.Width * declared.Height > MaxPixels)
        {
            throw new ImagePreparationException($"{name}: the header declares {declared.Width}x{declared.Height}, outside 1 px .. {MaxPixels / 1_000_000} MP");
        }

        var size = declared.Size;
        if (codec.EncodedFormat == SKEncodedImageFormat.Jpeg)
        {
            for (var numerator = 1; numerator < 8; numerator++)
            {
                var scaled = codec.GetScaledDimensions(numerator / 8f);
                if (Math.Max(scaled.Width, scaled.Height) >= MaxLongEdge)
                {
                    size = scaled;
                    break;
                }
            }
        }

        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var decoded = new SKBitmap(info);
        try
        {
            var result = codec.GetPixels(info, decoded.GetPixels());
            if (result == SKCodecResult.IncompleteInput)
            {
                throw new ImagePreparationException($"{name}: the image data is truncated");
            }

            if (result != SKCodecResult.Success)
            {
                throw new ImagePreparationException($"{name}: decoding failed ({result})");
            }

            var upright = Orient(decoded, codec.EncodedOrigin);
            if (!ReferenceEquals(upright, decoded))
            {
                decoded.Dispose();
            }

            return upright;
        }
        catch
        {
            decoded.Dispose();
            throw;
        }
    }

    private static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0)
        {
            return source;
        }

        float w = source.Width;
        float h = source.Height;
        var swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        // Each matrix maps stored pixel coordinates to displayed ones (EXIF 2.3, tag 0x0112).
        var matrix = origin switch
        {
            SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
            SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
            SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
            SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
            SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
            _ => SKMatrix.Identity,
        };
        var target = new SKBitmap(new SKImageInfo(swaps ? source.Height : source.Width, swaps ? source.Width : source.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(target);
        canvas.SetMatrix(matrix);
        canvas.DrawBitmap(source, 0, 0);
        return target;
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
