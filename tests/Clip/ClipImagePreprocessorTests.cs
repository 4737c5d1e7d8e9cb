using System.Runtime.InteropServices;
using DbFirst.Clip;
using DbFirst.Imaging;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Clip;

public sealed class ClipImagePreprocessorTests
{
    private readonly ClipImagePreprocessor _preprocessor = new(ClipPreprocessConfig.OpenAiDefault);

    [Theory]
    [InlineData("chelsea.png", "chelsea.chw.f32", 0.005)]
    [InlineData("rocket.jpg", "rocket.chw.f32", 0.008)]
    public void Preprocess_ReferencePhoto_MatchesTorchvisionTensor(string image, string tensor, double maxMeanDiff)
    {
        var folder = Path.Combine(TestPaths.ClipFixtures, "preprocess");
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folder, tensor))).ToArray();

        var actual = _preprocessor.Preprocess(Path.Combine(folder, image));

        Assert.Equal(expected.Length, actual.Length);
        var diffs = expected.Zip(actual, (e, a) => Math.Abs(e - a)).ToArray();
        Assert.True(diffs.Average() <= maxMeanDiff, $"mean abs diff {diffs.Average():F5} > {maxMeanDiff}");
        Assert.True(diffs.Max() <= 0.2, $"max abs diff {diffs.Max():F4} > 0.2");
        Console.WriteLine($"{image}: mean abs diff {diffs.Average():F5}, max {diffs.Max():F4}");
    }

    [Fact]
    public void Preprocess_SolidColour_GivesNormalisedConstantPlanes()
    {
        using var bitmap = Solid(300, 500, new SKColor(255, 0, 0));

        var tensor = _preprocessor.Preprocess(bitmap);

        Assert.Equal(3 * 224 * 224, tensor.Length);
        Assert.All(tensor.Take(224 * 224), v => Assert.Equal((1f - 0.48145466f) / 0.26862954f, v, 5));
        Assert.All(tensor.Skip(224 * 224).Take(224 * 224), v => Assert.Equal((0f - 0.4578275f) / 0.26130258f, v, 5));
    }

    [Fact]
    public void Preprocess_OddMargin_CropsWithPythonRounding()
    {
        // 224 x 227: margin 3 -> round(1.5) = 2 rows skipped at the top. Row y has value y.
        using var bitmap = new SKBitmap(new SKImageInfo(224, 227, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < 227; y++)
        {
            for (var x = 0; x < 224; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)y, 0, 0));
            }
        }

        var tensor = _preprocessor.Preprocess(bitmap);

        Assert.Equal((2 / 255f - 0.48145466f) / 0.26862954f, tensor[0], 5);
    }

    [Fact]
    public void Preprocess_BombHeader_RefusedBeforeDecoding()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dbfirst-bomb-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, TestPng.WithHeader(60000, 60000));
        try
        {
            var error = Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(path));
            Assert.Equal(path, error.Path);
            Assert.Contains("60000x60000", error.Reason);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Preprocess_GarbageFile_ThrowsImageDecodeException()
    {
        using var stream = new MemoryStream("definitely not an image"u8.ToArray());

        var error = Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(stream, "junk.jpg"));

        Assert.Equal("junk.jpg", error.Path);
    }

    [Fact]
    public void Preprocess_TruncatedJpeg_ThrowsImageDecodeException()
    {
        var jpeg = TestImages.EncodeJpeg(Solid(400, 300, new SKColor(10, 200, 30)));
        using var stream = new MemoryStream(jpeg[..(jpeg.Length / 2)]);

        Assert.Throws<ImageDecodeException>(() => _preprocessor.Preprocess(stream, "half.jpg"));
    }

    [Fact]
    public void Preprocess_MissingFile_ThrowsIOException()
    {
        Assert.ThrowsAny<IOException>(() => _preprocessor.Preprocess("/nonexistent/dbfirst/photo.jpg"));
    }

    [Theory]
    [InlineData(1632, 1224)]
    [InlineData(1224, 1632)]
    [InlineData(640, 480)]
    public void Preprocess_JpegFile_CropWindowDecodeIsBitIdenticalToFullDecode(int width, int height)
    {
        var path = Path.Combine(Path.GetTempPath(), $"dbfirst-window-{Guid.NewGuid():N}.jpg");
        try
        {
            using (var source = SyntheticPhoto.Render(width, height))
            using (var data = source.Encode(SKEncodedImageFormat.Jpeg, 90))
            {
                File.WriteAllBytes(path, data.ToArray());
            }

            using var full = new OrientedImageDecoder().Decode(path, 448);
            var expected = _preprocessor.Preprocess(full);

            var actual = _preprocessor.Preprocess(path);

            Assert.Equal(expected, actual);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Preprocess_LargeJpeg_DctScaledDecodeStaysCloseToFullDecode()
    {
        using var big = TestImages.Gradient(2400, 1800);
        var jpeg = TestImages.EncodeJpeg(big);
        var decoder = new OrientedImageDecoder();
        using var full = decoder.Decode(jpeg, "big.jpg");

        using var scaledBitmap = decoder.Decode(jpeg, "big.jpg", minShortSide: 448);
        var scaled = _preprocessor.Preprocess(scaledBitmap);
        var reference = _preprocessor.Preprocess(full);

        Assert.True(scaledBitmap.Height is >= 448 and < 1800, $"decoded at {scaledBitmap.Width}x{scaledBitmap.Height}");
        var meanDiff = reference.Zip(scaled, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanDiff < 0.02, $"mean abs diff {meanDiff:F4}");
    }

    private static SKBitmap Solid(int w, int h, SKColor colour)
    {
        var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(colour);
        return bitmap;
    }
}
