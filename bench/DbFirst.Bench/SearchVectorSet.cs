namespace DbFirst.Bench;

/// <summary>The synthetic vectors <c>dbfirst bench search --set</c> loads.</summary>
/// <param name="Name"><c>mixture</c> or <c>hard</c>.</param>
/// <param name="Description">What the set is, for the report.</param>
/// <param name="Generate">Makes <c>count</c> 512-d vectors, the same for the same count every time (seeded).</param>
internal sealed record SearchVectorSet(string Name, string Description, Func<int, float[][]> Generate)
{
    /// <summary>The dimension of every set.</summary>
    public const int Dimensions = 512;

    /// <summary>Centres of the hard set.</summary>
    public const int HardCentres = 1000;

    /// <summary>
    /// Per-dimension noise of the hard set, aimed at pgvector's default HNSW build (m 16, ef_construction 64) reaching
    /// about 0.4 recall@10 at ef_search 40 and 0.75 at 160 at 10^6 rows: measured there, 0.09 gives 0.379 / 0.701,
    /// 0.11 gives 0.319 / 0.632 and 0.12 gives 0.295 / 0.597 (see the README's Performance section). At 10^5 rows the
    /// same spread is much easier (0.10 gives 0.885 at ef_search 40): more rows move the edge to smaller spreads.
    /// </summary>
    public const double HardSpread = 0.09;

    /// <summary>The names <c>--set</c> accepts.</summary>
    public static readonly string[] Names = ["mixture", "hard"];

    /// <summary>The set called <paramref name="name"/>, sized for <paramref name="rows"/> rows.</summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="rows">Rows to be loaded: the mixture's cluster count follows it.</param>
    /// <param name="spread">The hard set's per-dimension noise; <see cref="HardSpread"/> when null.</param>
    /// <param name="centres">The hard set's centres; <see cref="HardCentres"/> when null (fewer, to calibrate at fewer rows with as many rows per centre).</param>
    /// <exception cref="GalleryException">An unknown name.</exception>
    public static SearchVectorSet Parse(string name, int rows, double? spread = null, int? centres = null)
    {
        switch (name.Trim().ToLowerInvariant())
        {
            case "mixture":
                // Many small overlapping groups, as photo galleries have (events, bursts); not one per IVFFlat list.
                var clusters = Math.Max(10, rows / 50);
                return new SearchVectorSet(
                    "mixture",
                    $"Gaussian mixture of {clusters:N0} clusters in a 24-d latent space (CLIP-like)",
                    count => SyntheticGallery.GaussianMixture(count, Dimensions, clusters, seed: 2024));
            case "hard":
                var noise = spread ?? HardSpread;
                var points = centres ?? HardCentres;
                return new SearchVectorSet(
                    "hard",
                    FormattableString.Invariant($"nearly uniform: {points:N0} random unit centres plus Gaussian noise of {noise} in each of the {Dimensions} dimensions"),
                    count => SyntheticGallery.NearlyUniform(count, Dimensions, points, noise, seed: 2025));
            default:
                throw new GalleryException($"--set must be {string.Join(" or ", Names)}, not '{name}'");
        }
    }
}
