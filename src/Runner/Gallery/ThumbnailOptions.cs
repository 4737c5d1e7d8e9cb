using DbFirst.Configuration;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// Where the gallery page caches thumbnails: <c>Gallery:ThumbnailCache</c> (a folder; default
/// <c>$XDG_CACHE_HOME/dbfirst/thumbnails</c> or <c>~/.cache/dbfirst/thumbnails</c>) and how much it may hold,
/// <c>Gallery:ThumbnailCacheMegabytes</c> (default 512).
/// </summary>
internal sealed record ThumbnailOptions(string Directory, int Megabytes)
{
    public const int DefaultMegabytes = 512;

    // 1 TiB: more is a typo, and megabytes * 2^20 must fit a long.
    private const int MaxMegabytes = 1 << 20;

    public long MaxBytes => Megabytes * 1024L * 1024L;

    public static ThumbnailOptions Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new ThumbnailOptions(
            settings.Text("Gallery:ThumbnailCache") ?? DefaultDirectory(),
            settings.Int("Gallery:ThumbnailCacheMegabytes", DefaultMegabytes, max: MaxMegabytes));
    }

    private static string DefaultDirectory()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "dbfirst", "thumbnails");
    }
}
