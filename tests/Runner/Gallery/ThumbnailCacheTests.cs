using DbFirst.Files;
using DbFirst.Imaging;
using DbFirst.Runner.Gallery;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Runner.Gallery;

public sealed class ThumbnailCacheTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dbfirst-thumbs-");

    [Fact]
    public async Task Thumbnail_AppliesExifOrientation_AndIsServedFromDiskTheSecondTime()
    {
        // Stored landscape, red left and blue right; orientation 6 shows it portrait, red on top.
        var path = Write("rotated.jpg", TestImages.WithExifOrientation(TestImages.SplitRedBlue(640, 320), 6));
        var cache = new ThumbnailCache(Path.Combine(_folder.FullName, "cache"), 10_000_000);
        var image = Image(1, path);

        var first = await cache.GetAsync(image, 320);
        File.Delete(path);
        var second = await cache.GetAsync(image, 320);

        using var bitmap = SKBitmap.Decode(first);
        Assert.Equal((160, 320), (bitmap.Width, bitmap.Height));
        Assert.True(TestImages.IsReddish(bitmap.GetPixel(80, 40)));
        Assert.True(TestImages.IsBluish(bitmap.GetPixel(80, 280)));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Cache_StaysWithinItsByteBudget()
    {
        var cacheFolder = Path.Combine(_folder.FullName, "cache");
        const long budget = 60_000;
        var cache = new ThumbnailCache(cacheFolder, budget);

        for (var id = 1; id <= 20; id++)
        {
            await cache.GetAsync(Image(id, Write($"noise{id}.jpg", TestImages.Noise(400, 300))), 320);
        }

        var sizes = new DirectoryInfo(cacheFolder).GetFiles().Select(f => f.Length).ToList();
        Assert.True(sizes.Sum() <= budget, $"cache holds {sizes.Sum()} bytes, budget {budget}");
        Assert.NotEmpty(sizes);
    }

    [Fact]
    public async Task Undecodable_Symlinked_OrMissingFiles_FailWithOneClearReason()
    {
        var cache = new ThumbnailCache(Path.Combine(_folder.FullName, "cache"), 1_000_000);
        var garbage = Write("garbage.jpg", [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        var link = Path.Combine(_folder.FullName, "link.jpg");
        File.CreateSymbolicLink(link, Write("real.jpg", TestImages.Noise(64, 64)));

        await Assert.ThrowsAsync<ImageDecodeException>(() => cache.GetAsync(Image(1, garbage), 320));
        var symlink = await Assert.ThrowsAsync<FileReadException>(() => cache.GetAsync(Image(2, link), 320));
        var directory = await Assert.ThrowsAsync<FileReadException>(() => cache.GetAsync(Image(3, _folder.FullName), 320));
        var gone = await Assert.ThrowsAsync<FileReadException>(() => cache.GetAsync(Image(4, Path.Combine(_folder.FullName, "gone.jpg")), 320));

        Assert.Equal("a symbolic link now, not the file that was ingested", symlink.Reason);
        Assert.Equal("not a regular file (a directory)", directory.Reason);
        Assert.Equal("file not found", gone.Reason);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static ImageDetails Image(long id, string path) =>
        new(id, path, null, null, null, null, null, null, null, null, null, false, 0, null, null, null, null);
}
