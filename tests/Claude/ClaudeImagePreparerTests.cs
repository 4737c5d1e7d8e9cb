using DbFirst.Claude;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Claude;

public sealed class ClaudeImagePreparerTests
{
    private readonly ClaudeImagePreparer _preparer = new();

    [Fact]
    public void Prepare_PlainJpeg_KeepsSizeAndIsJpeg()
    {
        var prepared = _preparer.Prepare(TestImages.SplitRedBlue(400, 200), "plain.jpg");

        Assert.Equal((400, 200), (prepared.Width, prepared.Height));
        Assert.Equal(SKEncodedImageFormat.Jpeg, SKCodec.Create(new SKMemoryStream(prepared.Jpeg)).EncodedFormat);
        Assert.True(TestImages.IsReddish(TestImages.ColourAt(prepared.Jpeg, 0.1, 0.5)));
        Assert.True(TestImages.IsBluish(TestImages.ColourAt(prepared.Jpeg, 0.9, 0.5)));
    }

    [Theory]
    [InlineData(6, true)]   // rotate 90° clockwise to display: the stored left (red) ends up on top
    [InlineData(8, false)]  // rotate 90° anticlockwise: the stored left (red) ends up at the bottom
    public void Prepare_ExifRotation_IsApplied(ushort orientation, bool redOnTop)
    {
        var jpeg = TestImages.WithExifOrientation(TestImages.SplitRedBlue(400, 200), orientation);

        var prepared = _preparer.Prepare(jpeg, "rotated.jpg");

        Assert.Equal((200, 400), (prepared.Width, prepared.Height));
        var top = TestImages.ColourAt(prepared.Jpeg, 0.5, 0.1);
        var bottom = TestImages.ColourAt(prepared.Jpeg, 0.5, 0.9);
        Assert.True(redOnTop ? TestImages.IsReddish(top) && TestImages.IsBluish(bottom) : TestImages.IsBluish(top) && TestImages.IsReddish(bottom), $"top {top}, bottom {bottom}");
    }

    [Fact]
    public void Prepare_ExifMirror_IsApplied()
    {
        var prepared = _preparer.Prepare(TestImages.WithExifOrientation(TestImages.SplitRedBlue(400, 200), 2), "mirrored.jpg");

        Assert.True(TestImages.IsBluish(TestImages.ColourAt(prepared.Jpeg, 0.1, 0.5)));
        Assert.True(TestImages.IsReddish(TestImages.ColourAt(prepared.Jpeg, 0.9, 0.5)));
    }

    [Fact]
    public void Prepare_LargeImage_LongEdgeIs1568()
    {
        var prepared = _preparer.Prepare(TestImages.SplitRedBlue(4000, 1000), "large.jpg");

        Assert.Equal(ClaudeImagePreparer.MaxLongEdge, prepared.Width);
        Assert.Equal(392, prepared.Height);
    }

    [Fact]
    public void Prepare_TransparentPng_BecomesJpegOnWhite()
    {
        var prepared = _preparer.Prepare(TestImages.SplitRedBlue(100, 100, SKEncodedImageFormat.Png, alpha: 0), "clear.png");

        Assert.Equal(SKEncodedImageFormat.Jpeg, SKCodec.Create(new SKMemoryStream(prepared.Jpeg)).EncodedFormat);
        var corner = TestImages.ColourAt(prepared.Jpeg, 0.2, 0.5);
        Assert.True(corner.Red > 240 && corner.Green > 240 && corner.Blue > 240, corner.ToString());
    }

    [Fact]
    public void Prepare_OverTheSizeLimit_LowersQualityUntilItFits()
    {
        var limit = 200_000L;
        var preparer = new ClaudeImagePreparer(maxBase64Length: limit);

        var prepared = preparer.Prepare(TestImages.Noise(800, 600), "noise.png");

        Assert.True(prepared.Base64Length < limit, $"{prepared.Base64Length} >= {limit}");
        Assert.Equal(prepared.ToBase64().Length, prepared.Base64Length);
        Assert.True(prepared.Quality < 85 || prepared.Width < 800);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })]
    public void Prepare_NotAnImage_ThrowsImagePreparationException(byte[] bytes)
    {
        Assert.Throws<ImagePreparationException>(() => _preparer.Prepare(bytes, "bad.jpg"));
    }

    [Fact]
    public void Prepare_TruncatedJpeg_ThrowsImagePreparationException()
    {
        var jpeg = TestImages.SplitRedBlue(400, 200);

        Assert.Throws<ImagePreparationException>(() => _preparer.Prepare(jpeg[..(jpeg.Length / 2)], "cut.jpg"));
    }
}
