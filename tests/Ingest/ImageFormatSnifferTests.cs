using System.Text;
using DbFirst.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Ingest;

public sealed class ImageFormatSnifferTests
{
    [Fact]
    public void EncodedImages_AreRecognisedByTheirBytes()
    {
        Assert.Equal("image/jpeg", Sniff(TestImages.Jpeg(4, 4)));
        Assert.Equal("image/png", Sniff(TestImages.Png(4, 4)));
        Assert.Equal("image/webp", Sniff(TestImages.Webp(4, 4)));
        Assert.Equal("image/gif", Sniff(IngestFixtures.AnimatedGif()));
        Assert.Equal("image/bmp", Sniff(IngestFixtures.Bmp(4, 4)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("BMW service notes, 2019, with enough text to fill a header")]
    [InlineData("RIFF....WAVEfmt ")]
    [InlineData("GIF8")]
    [InlineData("%PDF-1.7")]
    public void OtherBytes_AreNotImages(string text) =>
        Assert.Null(Sniff(Encoding.ASCII.GetBytes(text)));

    private static string? Sniff(byte[] bytes) =>
        ImageFormatSniffer.DetectMediaType(bytes.AsSpan(0, Math.Min(bytes.Length, ImageFormatSniffer.HeaderLength)));
}
