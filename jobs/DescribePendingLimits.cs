using System.Globalization;
using System.Numerics;

namespace DbFirst.Jobs;

/// <summary>
/// Per-run caps of the describe-pending job, from <c>Jobs:describe-pending:MaxImages</c>, <c>:MaxTokens</c> and
/// <c>:MaxFailedAttempts</c>. They live in configuration rather than in the job's arguments so an operator changes
/// them without re-registering the job.
/// </summary>
internal sealed record DescribePendingLimits(int MaxImages = 50, long MaxTokens = 200_000, int MaxFailedAttempts = 3)
{
    public static DescribePendingLimits FromConfiguration(Func<string, string?> lookup)
    {
        var defaults = new DescribePendingLimits();
        return new DescribePendingLimits(
            Read(lookup, "MaxImages", defaults.MaxImages),
            Read(lookup, "MaxTokens", defaults.MaxTokens),
            Read(lookup, "MaxFailedAttempts", defaults.MaxFailedAttempts));
    }

    private static T Read<T>(Func<string, string?> lookup, string name, T fallback)
        where T : struct, IBinaryInteger<T>
    {
        var key = $"Jobs:{DescribePendingJob.Id}:{name}";
        return lookup(key) is { Length: > 0 } text
            ? T.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > T.Zero
                ? value
                : throw new GalleryException($"{key.Replace(":", "__", StringComparison.Ordinal)} must be a positive whole number, not '{text}'")
            : fallback;
    }
}
