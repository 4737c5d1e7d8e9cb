using System.Buffers;
using System.Numerics;

namespace DbFirst.Imaging;

/// <summary>
/// Pillow's antialiased bicubic resize (<c>Image.resize(size, BICUBIC)</c> on 8-bit images), restricted to a
/// window of the output so a resize followed by a crop only computes the pixels that are kept.
/// </summary>
/// <remarks>
/// Hand-written because SkiaSharp's cubic sampling is a fixed 4×4 kernel: it does not widen the kernel by the
/// downscale factor the way Pillow does, so its thumbnails alias and differ from what CLIP saw in training.
/// This mirrors Pillow's <c>Resample.c</c>: a = -0.5, support 2 × scale, weights normalised and turned into
/// 22-bit fixed point, a horizontal pass then a vertical pass, each rounded and clamped to 8 bits.
/// </remarks>
internal static class PilBicubicResampler
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const double BicubicSupport = 2.0;
    private const double A = -0.5;

    /// <summary>
    /// Resizes an RGBA8888 image (<paramref name="inWidth"/> × <paramref name="inHeight"/>) to
    /// <paramref name="outWidth"/> × <paramref name="outHeight"/> and returns only the
    /// <paramref name="cropWidth"/> × <paramref name="cropHeight"/> window at (<paramref name="cropX"/>, <paramref name="cropY"/>),
    /// as packed RGB bytes. Alpha is ignored.
    /// </summary>
    public static byte[] ResizeCropRgb(
        ReadOnlySpan<byte> rgba, int inWidth, int inHeight, int outWidth, int outHeight,
        int cropX, int cropY, int cropWidth, int cropHeight)
    {
        var output = new byte[cropWidth * cropHeight * 3];
        ResizeCropRgb(rgba, inWidth, inHeight, outWidth, outHeight, cropX, cropY, cropWidth, cropHeight, output);
        return output;
    }

    /// <summary>
    /// As <see cref="ResizeCropRgb(ReadOnlySpan{byte}, int, int, int, int, int, int, int, int)"/>, writing the
    /// packed RGB window into <paramref name="destination"/> (at least crop width × crop height × 3 bytes).
    /// </summary>
    public static void ResizeCropRgb(
        ReadOnlySpan<byte> rgba, int inWidth, int inHeight, int outWidth, int outHeight,
        int cropX, int cropY, int cropWidth, int cropHeight, Span<byte> destination)
    {
        if (cropX < 0 || cropY < 0 || cropX + cropWidth > outWidth || cropY + cropHeight > outHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(cropX), "The crop window must lie inside the resized image.");
        }

        var stride = cropWidth * 3;
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, stride * cropHeight, nameof(destination));

        var horizontal = Coefficients.Compute(inWidth, outWidth, cropX, cropWidth);
        var vertical = Coefficients.Compute(inHeight, outHeight, cropY, cropHeight);

        // Rows of the source that the vertical pass will read.
        var firstRow = vertical.Start[0];
        var lastRow = 0;
        for (var i = 0; i < cropHeight; i++)
        {
            lastRow = Math.Max(lastRow, vertical.Start[i] + vertical.Count[i]);
        }

        var rows = lastRow - firstRow;

        // The intermediate buffers are several hundred KB per image: renting them keeps them off the large object
        // heap, whose collections otherwise cost a noticeable share of a preprocessing worker's time.
        var tempLength = rows * stride;
        var temp = ArrayPool<byte>.Shared.Rent(tempLength);
        var wide = vertical.IsIdentity ? [] : ArrayPool<int>.Shared.Rent(tempLength);
        var sums = vertical.IsIdentity ? [] : ArrayPool<int>.Shared.Rent(stride);
        try
        {
            for (var r = 0; r < rows; r++)
            {
                var srcRow = rgba.Slice((firstRow + r) * inWidth * 4, inWidth * 4);
                var dstRow = temp.AsSpan(r * stride, stride);
                if (horizontal.IsIdentity)
                {
                    for (var x = 0; x < cropWidth; x++)
                    {
                        var s = (cropX + x) * 4;
                        dstRow[x * 3] = srcRow[s];
                        dstRow[x * 3 + 1] = srcRow[s + 1];
                        dstRow[x * 3 + 2] = srcRow[s + 2];
                    }

                    continue;
                }

                HorizontalRow(srcRow, dstRow, horizontal, cropWidth);
            }

            if (vertical.IsIdentity)
            {
                temp.AsSpan(0, stride * cropHeight).CopyTo(destination);
                return;
            }

            // The vertical pass is a weighted sum of whole rows: widen the 8-bit intermediate to ints once so the
            // sums run in SIMD lanes (integer arithmetic, so the result is bit-identical to the scalar loop).
            for (var i = 0; i < tempLength; i++)
            {
                wide[i] = temp[i];
            }

            var acc = sums.AsSpan(0, stride);
            var lanes = Vector<int>.Count;
            for (var y = 0; y < cropHeight; y++)
            {
                var start = vertical.Start[y] - firstRow;
                var count = vertical.Count[y];
                var k = vertical.Weights.AsSpan(y * vertical.KernelSize, count);
                acc.Fill(1 << (PrecisionBits - 1));
                for (var i = 0; i < count; i++)
                {
                    var w = k[i];
                    var weight = new Vector<int>(w);
                    var src = wide.AsSpan((start + i) * stride, stride);
                    var x = 0;
                    for (; x <= stride - lanes; x += lanes)
                    {
                        var sum = new Vector<int>(acc.Slice(x, lanes));
                        (sum + new Vector<int>(src.Slice(x, lanes)) * weight).CopyTo(acc.Slice(x, lanes));
                    }

                    for (; x < stride; x++)
                    {
                        acc[x] += src[x] * w;
                    }
                }

                var dst = destination.Slice(y * stride, stride);
                for (var x = 0; x < stride; x++)
                {
                    dst[x] = Clip8(acc[x]);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(temp);
            if (!vertical.IsIdentity)
            {
                ArrayPool<int>.Shared.Return(wide);
                ArrayPool<int>.Shared.Return(sums);
            }
        }
    }

    /// <summary>
    /// The source pixels [start, end) along one axis that a resize from <paramref name="inSize"/> to
    /// <paramref name="outSize"/> reads to produce outputs [<paramref name="first"/>, first + <paramref name="length"/>).
    /// </summary>
    public static (int Start, int End) SourceRange(int inSize, int outSize, int first, int length)
    {
        var coefficients = Coefficients.Compute(inSize, outSize, first, length);
        var start = int.MaxValue;
        var end = 0;
        for (var i = 0; i < length; i++)
        {
            start = Math.Min(start, coefficients.Start[i]);
            end = Math.Max(end, coefficients.Start[i] + coefficients.Count[i]);
        }

        return (start, end);
    }

    private static void HorizontalRow(ReadOnlySpan<byte> srcRow, Span<byte> dstRow, Coefficients horizontal, int cropWidth)
    {
        var weights = horizontal.Weights;
        var kernelSize = horizontal.KernelSize;
        for (var x = 0; x < cropWidth; x++)
        {
            var count = horizontal.Count[x];
            var k = weights.AsSpan(x * kernelSize, count);
            int ss0 = 1 << (PrecisionBits - 1), ss1 = ss0, ss2 = ss0;
            var p = srcRow.Slice(horizontal.Start[x] * 4, count * 4);
            for (var i = 0; i < k.Length; i++)
            {
                var w = k[i];
                var px = p.Slice(i * 4, 3);
                ss0 += px[0] * w;
                ss1 += px[1] * w;
                ss2 += px[2] * w;
            }

            var o = dstRow.Slice(x * 3, 3);
            o[0] = Clip8(ss0);
            o[1] = Clip8(ss1);
            o[2] = Clip8(ss2);
        }
    }

    private static byte Clip8(int value)
    {
        if (value >= 255 << PrecisionBits)
        {
            return 255;
        }

        return value <= 0 ? (byte)0 : (byte)(value >> PrecisionBits);
    }

    private static double Bicubic(double x)
    {
        x = Math.Abs(x);
        if (x < 1.0)
        {
            return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
        }

        return x < 2.0 ? (((x - 5) * x + 8) * x - 4) * A : 0.0;
    }

    /// <summary>Per-output-pixel source ranges and fixed-point weights, as Pillow's <c>precompute_coeffs</c>.</summary>
    private sealed class Coefficients
    {
        private Coefficients(int[] start, int[] count, int[] weights, int kernelSize, bool isIdentity)
        {
            Start = start;
            Count = count;
            Weights = weights;
            KernelSize = kernelSize;
            IsIdentity = isIdentity;
        }

        public int[] Start { get; }

        public int[] Count { get; }

        public int[] Weights { get; }

        public int KernelSize { get; }

        /// <summary>True when the axis keeps its size: Pillow skips that pass entirely.</summary>
        public bool IsIdentity { get; }

        public static Coefficients Compute(int inSize, int outSize, int first, int length)
        {
            var start = new int[length];
            var count = new int[length];
            if (inSize == outSize)
            {
                for (var i = 0; i < length; i++)
                {
                    start[i] = first + i;
                    count[i] = 1;
                }

                return new Coefficients(start, count, [1 << PrecisionBits], 1, isIdentity: true);
            }

            var scale = (double)inSize / outSize;
            var filterScale = Math.Max(scale, 1.0);
            var support = BicubicSupport * filterScale;
            var kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            var weights = new int[length * kernelSize];
            var raw = new double[kernelSize];

            for (var i = 0; i < length; i++)
            {
                var xx = first + i;
                var center = (xx + 0.5) * scale;
                var ss = 1.0 / filterScale;
                var xmin = Math.Max((int)(center - support + 0.5), 0);
                var xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                var total = 0.0;
                for (var x = 0; x < xmax; x++)
                {
                    var w = Bicubic((x + xmin - center + 0.5) * ss);
                    raw[x] = w;
                    total += w;
                }

                for (var x = 0; x < xmax; x++)
                {
                    var w = total != 0.0 ? raw[x] / total : raw[x];
                    weights[i * kernelSize + x] = w < 0
                        ? (int)(-0.5 + w * (1 << PrecisionBits))
                        : (int)(0.5 + w * (1 << PrecisionBits));
                }

                start[i] = xmin;
                count[i] = xmax;
            }

            return new Coefficients(start, count, weights, kernelSize, isIdentity: false);
        }
    }
}
