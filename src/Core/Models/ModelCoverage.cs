namespace DbFirst.Models;

/// <summary>
/// One model as <c>dbfirst model list</c> shows it: <c>gallery.model_coverage()</c>'s exact counts (images embedded by
/// this model out of every image) and its vector index (and whether the managed one is at full, half or binary precision),
/// with the folder it was registered from.
/// </summary>
internal sealed record ModelCoverage(
    int Id,
    string Name,
    string State,
    int Dimension,
    long Embedded,
    long Total,
    string? IndexName,
    string? Source,
    string? Layout,
    string? IndexPrecision = null)
{
    /// <summary>Embedded ÷ total; an empty gallery counts as fully covered.</summary>
    public double Coverage => Total == 0 ? 1.0 : (double)Embedded / Total;
}
