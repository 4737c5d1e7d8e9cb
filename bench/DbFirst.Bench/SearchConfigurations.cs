namespace DbFirst.Bench;

/// <summary>
/// The configurations <c>dbfirst bench search --configs</c> picks from, in the order a run measures them: the
/// index configurations build and measure an index; those after them use the index the last one left in place.
/// </summary>
internal static class SearchConfigurations
{
    /// <summary>Sequential scan: the exact answers (always computed, for recall) and their latency.</summary>
    public const string Exact = "exact";

    /// <summary>The seed article's IVFFlat: lists = 100, probes = 1.</summary>
    public const string SeedIvfflat = "seed-ivfflat";

    /// <summary>IVFFlat with lists for the table, probes tuned.</summary>
    public const string Ivfflat = "ivfflat";

    /// <summary>pgvector's default HNSW build (m 16, ef_construction 64) at ef_search 40 and 160, untuned.</summary>
    public const string HnswDefault = "hnsw-default";

    /// <summary>pgvector's default HNSW build, ef_search tuned.</summary>
    public const string Hnsw = "hnsw";

    /// <summary><c>index tune</c> choosing build parameters too: sample builds, one real rebuild, ef_search tuned.</summary>
    public const string HnswBuild = "hnsw-build";

    /// <summary>
    /// Beside the tuned HNSW index: an HNSW index on <c>embedding::halfvec(N)</c> (<c>index rebuild --precision half</c>),
    /// same parameters and ef_search; size, build, recall and latency against the full one.
    /// </summary>
    public const string Half = "half";

    /// <summary>Beside the tuned HNSW index: binary quantization (<c>binary_quantize</c>, Hamming HNSW) with k x 4 … 40 candidates re-ranked exactly.</summary>
    public const string Binary = "binary";

    /// <summary>1%-selective folder and date filters through the index in place.</summary>
    public const string Filtered = "filtered";

    /// <summary>Stored neighbours: backfill, per-new-image cost, <c>gallery.near_duplicates</c> latency.</summary>
    public const string Duplicates = "duplicates";

    /// <summary><c>gallery.search</c> with new and cached text (loads CLIP).</summary>
    public const string Text = "text";

    /// <summary>Every configuration, in the order a run measures them.</summary>
    public static readonly string[] All = [Exact, SeedIvfflat, Ivfflat, HnswDefault, Hnsw, Half, Binary, HnswBuild, Filtered, Duplicates, Text];

    /// <summary>What a run without <c>--configs</c> measures.</summary>
    public static readonly string[] Default = [Exact, SeedIvfflat, Ivfflat, Hnsw, Half, Binary, Filtered, Duplicates, Text];

    private static readonly string[] s_buildsIndex = [SeedIvfflat, Ivfflat, HnswDefault, Hnsw, HnswBuild];

    /// <summary>
    /// Reads a comma-separated list (null: <see cref="Default"/>) into the set to measure, in run order.
    /// </summary>
    /// <exception cref="GalleryException">An unknown name, or filtered/duplicates/text without an index configuration to run on.</exception>
    public static IReadOnlySet<string> Parse(string? list)
    {
        var names = list is null ? Default : list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => n.ToLowerInvariant()).ToArray();
        var unknown = names.Where(n => !All.Contains(n)).ToArray();
        if (unknown.Length > 0 || names.Length == 0)
        {
            throw new GalleryException($"--configs takes a comma-separated list of {string.Join(", ", All)}; unknown: '{string.Join(", ", unknown)}'");
        }

        if (names.Any(n => n is Filtered or Duplicates or Text) && !names.Any(s_buildsIndex.Contains))
        {
            throw new GalleryException($"--configs {Filtered}, {Duplicates} and {Text} search through an index: add one of {string.Join(", ", s_buildsIndex)}");
        }

        if (names.Any(n => n is Half or Binary) && !names.Contains(Hnsw) && !names.Contains(HnswBuild))
        {
            throw new GalleryException($"--configs {Half} and {Binary} are measured beside the tuned HNSW index: add {Hnsw}");
        }

        return new HashSet<string>(names, StringComparer.Ordinal);
    }
}
