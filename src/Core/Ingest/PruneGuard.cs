using System.Globalization;

namespace DbFirst.Ingest;

/// <summary>
/// The checks that stop <c>ingest --prune</c> from wiping a gallery by accident: a root that yielded no files while
/// rows exist under it (an empty mount point), a root on another filesystem than at its last ingest (or that cannot
/// be examined), and a prune that would remove more than a share of the root's rows.
/// </summary>
internal static class PruneGuard
{
    /// <summary>Why pruning under this root is unsafe, in a phrase; null when it is safe (or there is nothing to prune).</summary>
    public static string? Check(PruneRootFacts root, double maxFraction)
    {
        if (root.Missing == 0)
        {
            return null;
        }

        if (root.SeenFiles == 0)
        {
            return $"{root.Root} yielded no files but has {root.Rows} rows (an empty mount point?)";
        }

        if (root.Device is null)
        {
            return $"{root.Root}: {root.DeviceError}";
        }

        if (root.RecordedDevice is { } recorded && recorded != root.Device)
        {
            return $"{root.Root} is on another filesystem than at its last ingest (device {root.Device}, was {recorded})";
        }

        // A single vanished file is always prunable; beyond that, a large share gone at once looks like an accident.
        if (root.Missing > 1 && root.Missing > maxFraction * root.Rows)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{root.Missing} of the {root.Rows} rows under {root.Root} would go, over the {maxFraction:P0} limit (Ingest:PruneMaxFraction)");
        }

        return null;
    }

    /// <summary>The one line a refused prune ends with.</summary>
    public static string Refusal(long missing, IReadOnlyList<string> reasons) =>
        $"refusing to prune {missing} rows: {string.Join("; ", reasons)}; nothing was deleted " +
        "(--dry-run lists them, --force prunes anyway)";
}
