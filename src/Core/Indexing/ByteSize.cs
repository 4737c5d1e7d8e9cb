namespace DbFirst.Indexing;

/// <summary>Sizes for people: 1.5 GiB, 12.0 MiB.</summary>
internal static class ByteSize
{
    /// <summary><paramref name="bytes"/> in the largest binary unit that keeps it at least 1.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):F1} KiB",
        _ => $"{bytes} B",
    };
}
