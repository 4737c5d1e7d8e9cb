using System.Globalization;

namespace DbFirst.Indexing;

/// <summary>
/// The most <c>maintenance_work_mem</c> an index build may take, from configuration key
/// <see cref="ConfigurationKey"/> (e.g. <c>Index__BuildMemoryCeiling=2GB</c>); by default a quarter of this
/// machine's memory, at most 4 GiB. DbFirst assumes the database runs on the machine that runs it (as
/// <c>scripts/db.sh</c> sets it up); for a remote server, set the ceiling to what that server can spare.
/// </summary>
public static class BuildMemoryCeiling
{
    /// <summary>The configuration key.</summary>
    public const string ConfigurationKey = "Index:BuildMemoryCeiling";

    /// <summary>PostgreSQL's smallest <c>maintenance_work_mem</c>.</summary>
    public const long MinBytes = 1L << 20;

    private const long MaxDefaultBytes = 4L << 30;

    /// <summary>This machine's memory as .NET sees it (container limits included).</summary>
    public static long MachineBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>min(25% of <see cref="MachineBytes"/>, 4 GiB).</summary>
    public static long Default => Math.Max(MinBytes, Math.Min(MachineBytes / 4, MaxDefaultBytes));

    /// <summary>
    /// Reads a configured ceiling: bytes, or a number with kB, MB, GB (powers of 1024, as PostgreSQL reads them);
    /// <see langword="null"/> or empty gives <see cref="Default"/>.
    /// </summary>
    /// <exception cref="GalleryException">Not a size, under 1 MB, or more than this machine's memory.</exception>
    public static long Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Default;
        }

        var trimmed = text.Trim();
        var units = new (string Suffix, long Factor)[] { ("kB", 1L << 10), ("MB", 1L << 20), ("GB", 1L << 30), ("TB", 1L << 40), ("B", 1) };
        var (number, factor) = (trimmed, 1L);
        foreach (var (suffix, unitFactor) in units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                (number, factor) = (trimmed[..^suffix.Length].TrimEnd(), unitFactor);
                break;
            }
        }

        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value <= 0)
        {
            throw new GalleryException($"{ConfigurationKey} must be a size such as 2GB or 512MB, not '{text}'");
        }

        var bytes = value * factor;
        if (bytes < MinBytes)
        {
            throw new GalleryException($"{ConfigurationKey} must be at least 1MB (PostgreSQL's smallest maintenance_work_mem), not '{text}'");
        }

        if (bytes > MachineBytes)
        {
            throw new GalleryException($"{ConfigurationKey} = '{text}' is more than this machine's {ByteSize.Format(MachineBytes)} of memory: a build could run the server out of memory");
        }

        return (long)bytes;
    }
}
