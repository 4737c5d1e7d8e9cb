using SkiaSharp;

namespace DbFirst.Imaging;

/// <summary>
/// Decodes an image with SkiaSharp into straight-alpha RGBA8888 with its EXIF orientation applied, refusing
/// decompression bombs from the header before any pixel is decoded.
/// </summary>
/// <remarks>
/// Pixels come out as stored: no ICC conversion (the bitmap has no colour space) and no alpha premultiplication,
/// which is what PIL's <c>convert('RGB')</c> sees too. Skia's JPEG decoder treats CMYK as Adobe-inverted and
/// converts it to RGB itself. Thread-safe: it holds no state besides its limit.
/// </remarks>
internal sealed class OrientedImageDecoder
{
    /// <summary>Largest image accepted by default (width × height declared in the header).</summary>
    public const long DefaultMaxPixels = 100_000_000;

    public OrientedImageDecoder(long maxPixels = DefaultMaxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPixels);
        MaxPixels = maxPixels;
    }

    /// <summary>Largest width × height accepted.</summary>
    public long MaxPixels { get; }

    /// <summary>
    /// Decodes <paramref name="path"/>. When <paramref name="minShortSide"/> is given, JPEGs are decoded at the
    /// smallest DCT scale (n/8) whose shorter side is still at least that many pixels.
    /// </summary>
    /// <exception cref="ImageDecodeException">The image is undecodable or too large.</exception>
    /// <exception cref="IOException">The file could not be read.</exception>
    public SKBitmap Decode(string path, int? minShortSide = null) => Decode(path, minShortSide, window: null);

    /// <summary>
    /// As <see cref="Decode(string, int?)"/>, but a JPEG stored upright may be decoded only inside the rectangle
    /// <paramref name="window"/> returns for the decoded size; pixels outside it are then left undefined.
    /// </summary>
    public SKBitmap Decode(string path, int? minShortSide, Func<SKSizeI, SKRectI>? window)
    {
        ArgumentNullException.ThrowIfNull(path);

        // Read straight into native memory: a managed copy of a 12 MP JPEG is a multi-megabyte large-object
        // allocation per image that the codec would only copy again.
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        if (file.Length == 0)
        {
            throw new ImageDecodeException(path, "the file is empty");
        }

        using var data = SKData.Create(file, file.Length)
            ?? throw new IOException($"Could not read {path}.");
        return DecodeData(data, path, minShortSide, window);
    }

    /// <summary>
    /// Decodes an encoded image already in native memory (what <see cref="Files.IngestedFileReader"/> returns);
    /// <paramref name="name"/> appears in errors. <paramref name="window"/> is as in <see cref="Decode(string, int?, Func{SKSizeI, SKRectI}?)"/>.
    /// </summary>
    public SKBitmap Decode(SKData encoded, string name, int? minShortSide = null, Func<SKSizeI, SKRectI>? window = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Size == 0)
        {
            throw new ImageDecodeException(name, "the file is empty");
        }

        return DecodeData(encoded, name, minShortSide, window);
    }

    /// <summary>Decodes an image read from <paramref name="stream"/>; <paramref name="name"/> appears in errors.</summary>
    public SKBitmap Decode(Stream stream, string name, int? minShortSide = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.ToArray(), name, minShortSide);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="name"/> appears in errors.</summary>
    public SKBitmap Decode(byte[] encoded, string name, int? minShortSide = null)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
        {
            throw new ImageDecodeException(name, "the file is empty");
        }

        using var data = SKData.CreateCopy(encoded);
        return DecodeData(data, name, minShortSide, window: null);
    }

    private SKBitmap DecodeData(SKData encoded, string name, int? minShortSide, Func<SKSizeI, SKRectI>? window)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded), out var createResult)
            ?? throw new ImageDecodeException(name, createResult == SKCodecResult.Unimplemented
                ? "not a recognised image format"
                : $"cannot read the image header ({createResult})");

        var declared = codec.Info;
        var pixels = (long)declared.Width * declared.Height;
        if (declared.Width <= 0 || declared.Height <= 0)
        {
            throw new ImageDecodeException(name, $"the header declares an empty image ({declared.Width}x{declared.Height})");
        }

        if (pixels > MaxPixels)
        {
            throw new ImageDecodeException(name,
                $"the header declares {declared.Width}x{declared.Height} = {pixels / 1e6:F0} MP, over the {MaxPixels / 1e6:F0} MP limit");
        }

        var size = ChooseDecodeSize(codec, minShortSide);
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        try
        {
            var result = window is not null && codec.EncodedFormat == SKEncodedImageFormat.Jpeg
                && codec.EncodedOrigin is SKEncodedOrigin.TopLeft or 0
                ? DecodeWindow(codec, info, bitmap, window(size))
                : codec.GetPixels(info, bitmap.GetPixels());
            if (result != SKCodecResult.Success)
            {
                throw new ImageDecodeException(name, result == SKCodecResult.IncompleteInput
                    ? "the image data is truncated"
                    : $"decoding failed ({result})");
            }

            var oriented = ApplyOrientation(bitmap, codec.EncodedOrigin);
            if (!ReferenceEquals(oriented, bitmap))
            {
                bitmap.Dispose();
            }

            return oriented;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes only the rows and columns of <paramref name="window"/>: libjpeg-turbo skips the colour conversion
    /// and inverse DCT of the columns outside it (jpeg_crop_scanline) and of the rows before it, and stops after
    /// its last row. The pixels inside are the ones a full decode gives.
    /// </summary>
    private static SKCodecResult DecodeWindow(SKCodec codec, SKImageInfo info, SKBitmap bitmap, SKRectI window)
    {
        window.Intersect(SKRectI.Create(info.Size));
        if (window.IsEmpty)
        {
            return codec.GetPixels(info, bitmap.GetPixels());
        }

        var options = new SKCodecOptions(SKRectI.Create(window.Left, 0, window.Width, info.Height));
        var result = codec.StartScanlineDecode(info, options);
        if (result != SKCodecResult.Success)
        {
            return codec.GetPixels(info, bitmap.GetPixels());
        }

        if (window.Top > 0 && !codec.SkipScanlines(window.Top))
        {
            return SKCodecResult.IncompleteInput;
        }

        var rowBytes = bitmap.RowBytes;
        var first = bitmap.GetPixels() + (window.Top * rowBytes) + (window.Left * info.BytesPerPixel);
        var lines = codec.GetScanlines(first, window.Height, rowBytes);
        return lines == window.Height ? SKCodecResult.Success : SKCodecResult.IncompleteInput;
    }

    private static SKSizeI ChooseDecodeSize(SKCodec codec, int? minShortSide)
    {
        var full = codec.Info.Size;
        if (minShortSide is not { } min || codec.EncodedFormat != SKEncodedImageFormat.Jpeg
            || Math.Min(full.Width, full.Height) < 2 * min)
        {
            return full;
        }

        // libjpeg(-turbo) can decode at n/8 of the size for a fraction of the work; take the smallest that still
        // leaves enough pixels for an antialiased resize to look like one from the full image.
        for (var numerator = 1; numerator < 8; numerator++)
        {
            var scaled = codec.GetScaledDimensions(numerator / 8f);
            if (Math.Min(scaled.Width, scaled.Height) >= min)
            {
                return scaled;
            }
        }

        return full;
    }

    /// <summary>Returns a bitmap with the EXIF orientation undone (the same bitmap when none is needed).</summary>
    private static SKBitmap ApplyOrientation(SKBitmap source, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft or 0)
        {
            return source;
        }

        var w = source.Width;
        var h = source.Height;
        var swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var dw = swaps ? h : w;
        var dh = swaps ? w : h;
        var target = new SKBitmap(new SKImageInfo(dw, dh, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        var src = source.GetPixelSpan();
        var dst = target.GetPixelSpan();
        var srcPixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(src);
        var dstPixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(dst);

        for (var y = 0; y < dh; y++)
        {
            var row = dstPixels.Slice(y * dw, dw);
            for (var x = 0; x < dw; x++)
            {
                // (sx, sy): the stored pixel that is displayed at (x, y) under this EXIF orientation.
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                row[x] = srcPixels[sy * w + sx];
            }
        }

        return target;
    }
}
