using Hangfire;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Jobs;

/// <summary>
/// Every recurring job, in one place. Each has a kebab-case id, a default cron expression overridable with
/// <c>Jobs:&lt;id&gt;:Cron</c>, and can be switched off with <c>Jobs:&lt;id&gt;:Enabled=false</c> (which also removes it
/// from storage, so a disabled job stops firing on every server).
/// </summary>
internal static class RecurringJobCatalog
{
    /// <summary>The catalogue. Other parts add their job here: one entry each.</summary>
    public static IReadOnlyList<RecurringJobEntry> Entries { get; } =
    [
        new(EmbedPendingJob.Id, Cron.Minutely(), (manager, id, cron) => manager.AddOrUpdate<EmbedPendingJob>(
            id, job => job.RunAsync(null, CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc })),
        new(MaintainIndexJob.Id, Cron.Daily(3), (manager, id, cron) => manager.AddOrUpdate<MaintainIndexJob>(
            id, job => job.RunAsync(CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc })),
        // Only works when images are queued (bulk loads, migration 80); an empty queue costs one query.
        new(FillNeighboursJob.Id, "*/5 * * * *", (manager, id, cron) => manager.AddOrUpdate<FillNeighboursJob>(
            id, job => job.RunAsync(CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc })),
        // Off unless Jobs:describe-pending:Enabled=true: every image it describes is billed by Anthropic.
        new(DescribePendingJob.Id, Cron.Hourly(), (manager, id, cron) => manager.AddOrUpdate<DescribePendingJob>(
            id, job => job.RunAsync(CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc }),
            EnabledByDefault: false),
        // On by default: with no batch pending it makes no call, and ended batches are already paid for.
        new(CollectDescribeBatchesJob.Id, "*/10 * * * *", (manager, id, cron) => manager.AddOrUpdate<CollectDescribeBatchesJob>(
            id, job => job.RunAsync(CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc })),
    ];

    /// <summary>Adds, updates or removes each catalogued job as configured; returns the ids now scheduled.</summary>
    public static IReadOnlyList<string> Register(IRecurringJobManager manager, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(configuration);
        var scheduled = new List<string>();
        foreach (var entry in Entries)
        {
            var section = configuration.GetSection($"Jobs:{entry.Id}");
            if (!bool.TryParse(section["Enabled"] ?? (entry.EnabledByDefault ? "true" : "false"), out var enabled) || !enabled)
            {
                manager.RemoveIfExists(entry.Id);
                continue;
            }

            var cron = section["Cron"] is { Length: > 0 } configured ? configured : entry.DefaultCron;
            entry.Schedule(manager, entry.Id, cron);
            scheduled.Add(entry.Id);
        }

        return scheduled;
    }
}
