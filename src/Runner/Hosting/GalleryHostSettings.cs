using DbFirst.Claude;
using DbFirst.Configuration;
using DbFirst.Embedding;
using DbFirst.Indexing;
using DbFirst.Jobs;
using DbFirst.Runner.Gallery;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Everything <c>serve</c> and <c>worker</c> read from configuration, read in one go before the host is built, so
/// any invalid value stops start-up with one line naming its key (nothing is parsed later, inside a job).
/// </summary>
/// <param name="Embedding">The <c>Embedding:*</c> and <c>Files:*</c> keys.</param>
/// <param name="Claude"><c>ANTHROPIC_*</c> and <c>Claude:*</c>.</param>
/// <param name="DescribeLimits"><c>Jobs:describe-pending:Max*</c>.</param>
/// <param name="Jobs"><c>Jobs:&lt;id&gt;:Enabled</c> and <c>:Cron</c> of every recurring job.</param>
/// <param name="BuildMemoryCeiling"><c>Index:BuildMemoryCeiling</c>, in bytes.</param>
/// <param name="WorkerCount"><c>Hangfire:WorkerCount</c>: jobs one server runs at once.</param>
/// <param name="Polling"><c>Hangfire:QueuePollInterval</c>, <c>:SchedulePollingInterval</c> and <c>:LongPolling</c>.</param>
/// <param name="Dashboard"><c>Dashboard:*</c>.</param>
/// <param name="Thumbnails"><c>Gallery:*</c>.</param>
internal sealed record GalleryHostSettings(
    EmbeddingOptions Embedding,
    ClaudeOptions Claude,
    DescribePendingLimits DescribeLimits,
    IReadOnlyList<RecurringJobSchedule> Jobs,
    long BuildMemoryCeiling,
    int WorkerCount,
    HangfirePolling Polling,
    DashboardSettings Dashboard,
    ThumbnailOptions Thumbnails)
{
    /// <summary>The embedding pipeline already uses every core; a second worker serves the other (I/O-bound) jobs.</summary>
    public const int DefaultWorkerCount = 2;

    // Each Hangfire worker holds a database connection while it runs a job; more than this is a typo.
    private const int MaxWorkerCount = 64;

    public static GalleryHostSettings Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new GalleryHostSettings(
            EmbeddingOptions.Read(settings),
            ClaudeOptions.Read(settings),
            DescribePendingLimits.Read(settings),
            RecurringJobCatalog.Read(settings),
            Indexing.BuildMemoryCeiling.Read(settings),
            settings.Int("Hangfire:WorkerCount", DefaultWorkerCount, max: MaxWorkerCount),
            HangfirePolling.Read(settings),
            DashboardSettings.Read(settings),
            ThumbnailOptions.Read(settings));
    }
}
