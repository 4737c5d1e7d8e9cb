using System.Buffers;
using DbFirst.Imaging;
using SkiaSharp;

namespace DbFirst.Clip;

/// <summary>
/// Turns an image file into CLIP's input tensor the way torchvision's
/// <c>Resize(224, BICUBIC) → CenterCrop(224) → ToTensor → Normalize</c> does on a PIL image converted to RGB:
/// CHW float32, 3 × size × size. Thread-safe.
/// </summary>
internal sealed class ClipImagePreprocessor
{
    private readonly OrientedImageDecoder _decoder;
    private readonly float[][] _lookup;

    public ClipImagePreprocessor(ClipPreprocessConfig config, OrientedImageDecoder? decoder = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _decoder = decoder ?? new OrientedImageDecoder();

        // ToTensor divides by 255 in float32, Normalize subtracts and divides in float32: a table per channel
        // gives exactly those values for every byte.
        _lookup = new float[3][];
        for (var c = 0; c < 3; c++)
        {
            _lookup[c] = new float[256];
            for (var v = 0; v < 256; v++)
            {
                _lookup[c][v] = ((v / 255f) - config.Mean[c]) / config.Std[c];
            }
        }
    }

    /// <summary>The constants in use.</summary>
    public ClipPreprocessConfig Config { get; }

    /// <summary>Number of floats in one preprocessed image (3 × crop × crop).</summary>
    public int TensorLength => 3 * Config.CropSize * Config.CropSize;

    /// <summary>Decodes and preprocesses the image at <paramref name="path"/>.</summary>
    /// <exception cref="ImageDecodeException">The image is undecodable or too large (permanent).</exception>
    /// <exception cref="IOException">The file could not be read (possibly transient).</exception>
    public float[] Preprocess(string path)
    {
        using var bitmap = _decoder.Decode(path, MinimumDecodeShortSide, SourceWindow);
        return Preprocess(bitmap);
    }

    /// <summary>Decodes and preprocesses an encoded image held in native memory; <paramref name="name"/> appears in errors.</summary>
    /// <exception cref="ImageDecodeException">The image is undecodable or too large (permanent).</exception>
    public float[] Preprocess(SKData encoded, string name)
    {
        using var bitmap = _decoder.Decode(encoded, name, MinimumDecodeShortSide, SourceWindow);
        return Preprocess(bitmap);
    }

    /// <summary>Decodes and preprocesses an encoded image read from <paramref name="stream"/>.</summary>
    public float[] Preprocess(Stream stream, string name = "stream")
    {
        using var bitmap = _decoder.Decode(stream, name, MinimumDecodeShortSide);
        return Preprocess(bitmap);
    }

    /// <summary>Preprocesses an RGBA8888 straight-alpha bitmap (alpha ignored, as PIL's <c>convert('RGB')</c>).</summary>
    public float[] Preprocess(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        if (bitmap.ColorType != SKColorType.Rgba8888)
        {
            throw new ArgumentException("Expected an RGBA8888 bitmap.", nameof(bitmap));
        }

        var w = bitmap.Width;
        var h = bitmap.Height;
        var (outW, outH, left, top, crop) = Geometry(w, h);
        var plane = crop * crop;
        var rgb = ArrayPool<byte>.Shared.Rent(3 * plane);
        var tensor = new float[3 * plane];
        try
        {
            PilBicubicResampler.ResizeCropRgb(bitmap.GetPixelSpan(), w, h, outW, outH, left, top, crop, crop, rgb);
            var r = _lookup[0];
            var g = _lookup[1];
            var b = _lookup[2];
            var red = tensor.AsSpan(0, plane);
            var green = tensor.AsSpan(plane, plane);
            var blue = tensor.AsSpan(2 * plane, plane);
            var pixels = rgb.AsSpan(0, 3 * plane);
            for (var i = 0; i < plane; i++)
            {
                var px = pixels.Slice(i * 3, 3);
                red[i] = r[px[0]];
                green[i] = g[px[1]];
                blue[i] = b[px[2]];
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgb);
        }

        return tensor;
    }

    /// <summary>
    /// torchvision's <c>Resize(int)</c> then <c>CenterCrop</c> for a <paramref name="w"/> × <paramref name="h"/>
    /// image: the resized size and the crop window inside it.
    /// </summary>
    private (int OutW, int OutH, int Left, int Top, int Crop) Geometry(int w, int h)
    {
        var target = Config.ResizeShortSide;

        // torchvision's Resize(int): the shorter side becomes `target`, the longer int(target * long / short).
        var (outW, outH) = w <= h
            ? (target, (int)((long)target * h / w))
            : ((int)((long)target * w / h), target);

        // torchvision's CenterCrop rounds half to even (Python's round); a crop larger than the image is not
        // padded here because the resize always makes the short side at least as large as the crop in CLIP configs.
        var crop = Math.Min(Config.CropSize, Math.Min(outW, outH));
        var left = (int)Math.Round((outW - crop) / 2.0, MidpointRounding.ToEven);
        var top = (int)Math.Round((outH - crop) / 2.0, MidpointRounding.ToEven);
        return (outW, outH, left, top, crop);
    }

    /// <summary>The decoded pixels the resize reads for the centre crop: the decoder may skip the rest.</summary>
    private SKRectI SourceWindow(SKSizeI decoded)
    {
        var (outW, outH, left, top, crop) = Geometry(decoded.Width, decoded.Height);
        var (x0, x1) = PilBicubicResampler.SourceRange(decoded.Width, outW, left, crop);
        var (y0, y1) = PilBicubicResampler.SourceRange(decoded.Height, outH, top, crop);
        return new SKRectI(x0, y0, x1, y1);
    }

    // Decoding a large JPEG at a reduced DCT scale is allowed while the short side stays at least twice the
    // resize target, so the antialiased resize still has real detail to average.
    private int MinimumDecodeShortSide => 2 * Config.ResizeShortSide;
}
