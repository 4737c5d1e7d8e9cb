using Hangfire;
using DbFirst.Configuration;

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

    /// <summary>
    /// Reads <c>Jobs:&lt;id&gt;:Enabled</c> and <c>Jobs:&lt;id&gt;:Cron</c> for every entry; hosts do it before they start,
    /// so a misspelt switch stops them instead of quietly disabling a job.
    /// </summary>
    public static IReadOnlyList<RecurringJobSchedule> Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return Entries
            .Select(entry => new RecurringJobSchedule(
                entry.Id,
                settings.Bool($"Jobs:{entry.Id}:Enabled", entry.EnabledByDefault),
                settings.Text($"Jobs:{entry.Id}:Cron") ?? entry.DefaultCron))
            .ToList();
    }

    /// <summary>Adds, updates or removes each catalogued job as <paramref name="schedules"/> say; returns the ids now scheduled.</summary>
    /// <exception cref="GalleryException">A configured cron expression is not one.</exception>
    public static IReadOnlyList<string> Register(IRecurringJobManager manager, IReadOnlyList<RecurringJobSchedule> schedules)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(schedules);
        var scheduled = new List<string>();
        foreach (var entry in Entries)
        {
            var schedule = schedules.Single(s => s.Id == entry.Id);
            if (!schedule.Enabled)
            {
                manager.RemoveIfExists(entry.Id);
                continue;
            }

            try
            {
                entry.Schedule(manager, entry.Id, schedule.Cron);
            }
            catch (ArgumentException exception) when (schedule.Cron != entry.DefaultCron)
            {
                // Hangfire parses the expression only here; name the key, not Hangfire's parameter.
                throw new GalleryException(SettingsReader.Invalid($"Jobs:{entry.Id}:Cron", "a cron expression such as */5 * * * *", schedule.Cron).Message, exception);
            }

            scheduled.Add(entry.Id);
        }

        return scheduled;
    }
}
