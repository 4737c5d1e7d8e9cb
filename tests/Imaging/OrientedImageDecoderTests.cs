using DbFirst.Imaging;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Imaging;

public sealed class OrientedImageDecoderTests
{
    private readonly OrientedImageDecoder _decoder = new();

    private static string Fixture(string name) => Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "images", name);

    [Fact]
    public void Decode_ExifOrientation6_RotatesClockwise()
    {
        // Stored 32x16, red left half, blue right half; orientation 6 displays it rotated 90° clockwise.
        using var bitmap = _decoder.Decode(Fixture("exif-orientation-6.jpg"));

        Assert.Equal((16, 32), (bitmap.Width, bitmap.Height));
        AssertColour(bitmap.GetPixel(8, 4), 255, 0, 0, tolerance: 40);
        AssertColour(bitmap.GetPixel(8, 28), 0, 0, 255, tolerance: 40);
    }

    [Fact]
    public void Decode_Grayscale_GivesEqualRgb()
    {
        using var bitmap = _decoder.Decode(Fixture("gray.png"));

        AssertColour(bitmap.GetPixel(3, 3), 128, 128, 128, tolerance: 0);
    }

    [Fact]
    public void Decode_GrayscaleWithAlpha_KeepsGrayValue()
    {
        using var bitmap = _decoder.Decode(Fixture("gray-alpha.png"));

        AssertColour(bitmap.GetPixel(3, 3), 128, 128, 128, tolerance: 1);
    }

    [Fact]
    public void Decode_Grayscale16Bit_ScalesToEightBits()
    {
        using var bitmap = _decoder.Decode(Fixture("gray16.png"));

        AssertColour(bitmap.GetPixel(3, 3), 128, 128, 128, tolerance: 1);
    }

    [Fact]
    public void Decode_Rgb16Bit_KeepsColour()
    {
        using var bitmap = _decoder.Decode(Fixture("rgb16.png"));

        AssertColour(bitmap.GetPixel(3, 3), 255, 128, 0, tolerance: 1);
    }

    [Fact]
    public void Decode_Palette_ExpandsToRgb()
    {
        using var bitmap = _decoder.Decode(Fixture("palette.png"));

        AssertColour(bitmap.GetPixel(2, 2), 255, 0, 0, tolerance: 0);
        AssertColour(bitmap.GetPixel(12, 2), 0, 255, 0, tolerance: 0);
    }

    [Fact]
    public void Decode_AdobeCmykJpeg_IsNotColourInverted()
    {
        using var bitmap = _decoder.Decode(Fixture("cmyk.jpg"));

        AssertColour(bitmap.GetPixel(8, 8), 255, 0, 0, tolerance: 50);
    }

    [Fact]
    public void Decode_TransparentPixels_KeepTheirColourUnpremultiplied()
    {
        // PIL's convert('RGB') drops alpha without compositing: a fully transparent red pixel stays red.
        using var bitmap = _decoder.Decode(Fixture("alpha.png"));

        Assert.Equal(SKAlphaType.Unpremul, bitmap.AlphaType);
        AssertColour(bitmap.GetPixel(4, 4), 255, 0, 0, tolerance: 0);
        AssertColour(bitmap.GetPixel(20, 4), 0, 0, 255, tolerance: 0);
    }

    [Fact]
    public void Decode_OverPixelLimit_ThrowsBeforeDecoding()
    {
        var decoder = new OrientedImageDecoder(maxPixels: 100);

        var error = Assert.Throws<ImageDecodeException>(() => decoder.Decode(Fixture("gray.png")));

        Assert.Contains("16x16", error.Reason);
        Assert.Contains("gray.png", error.Message);
    }

    private static void AssertColour(SKColor actual, int r, int g, int b, int tolerance)
    {
        Assert.True(
            Math.Abs(actual.Red - r) <= tolerance && Math.Abs(actual.Green - g) <= tolerance && Math.Abs(actual.Blue - b) <= tolerance,
            $"expected ({r},{g},{b}) ±{tolerance}, got ({actual.Red},{actual.Green},{actual.Blue})");
    }
}
