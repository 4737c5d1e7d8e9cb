using System.Globalization;
using DbFirst.Files;
using DbFirst.Runner.Hosting;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// Builds the <see cref="ThumbnailCache"/> from <c>Gallery:ThumbnailCache</c> (a folder; default
/// <c>$XDG_CACHE_HOME/dbfirst/thumbnails</c> or <c>~/.cache/dbfirst/thumbnails</c>) and
/// <c>Gallery:ThumbnailCacheMegabytes</c> (default 512).
/// </summary>
internal static class ThumbnailSettings
{
    public const int DefaultMegabytes = 512;

    public static ThumbnailCache Create(IConfiguration configuration)
    {
        var directory = configuration["Gallery:ThumbnailCache"] is { Length: > 0 } configured ? configured : DefaultDirectory();
        var megabytes = configuration["Gallery:ThumbnailCacheMegabytes"] is not { Length: > 0 } text ? DefaultMegabytes
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
            : throw new GalleryException($"Gallery:ThumbnailCacheMegabytes must be a positive whole number, not '{text}'");
        return new ThumbnailCache(directory, megabytes * 1024L * 1024L, new IngestedFileReader(FileSettings.Read(configuration)));
    }

    private static string DefaultDirectory()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "dbfirst", "thumbnails");
    }
}
