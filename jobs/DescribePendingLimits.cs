using DbFirst.Configuration;

namespace DbFirst.Jobs;

/// <summary>
/// Per-run caps of the describe-pending job, from <c>Jobs:describe-pending:MaxImages</c>, <c>:MaxTokens</c> and
/// <c>:MaxFailedAttempts</c>. They live in configuration rather than in the job's arguments so an operator changes
/// them without re-registering the job.
/// </summary>
internal sealed record DescribePendingLimits(int MaxImages = 50, long MaxTokens = 200_000, int MaxFailedAttempts = 3)
{
    public static DescribePendingLimits Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var defaults = new DescribePendingLimits();
        return new DescribePendingLimits(
            settings.Int(Key("MaxImages"), defaults.MaxImages),
            settings.Long(Key("MaxTokens"), defaults.MaxTokens),
            settings.Int(Key("MaxFailedAttempts"), defaults.MaxFailedAttempts));
    }

    private static string Key(string name) => $"Jobs:{DescribePendingJob.Id}:{name}";
}
