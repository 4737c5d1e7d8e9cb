using DbFirst.Configuration;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// How often an idle Hangfire server asks PostgreSQL for work (the <c>Hangfire:*</c> polling keys). Every idle
/// server pays these queries whether or not there is work, so they set the database load a fleet of workers costs.
/// </summary>
/// <param name="QueuePollInterval">
/// <c>Hangfire:QueuePollInterval</c>: how long each idle Hangfire worker waits between two looks at the job queue.
/// With <paramref name="LongPolling"/> an enqueued job wakes the workers at once, so this is only the fallback.
/// </param>
/// <param name="SchedulePollingInterval">
/// <c>Hangfire:SchedulePollingInterval</c>: how often a server looks for due recurring and delayed jobs (retries).
/// </param>
/// <param name="LongPolling">
/// <c>Hangfire:LongPolling</c>: idle workers LISTEN for the NOTIFY that every enqueue sends (Hangfire.PostgreSql's
/// <c>EnableLongPolling</c>), holding one extra connection each while they wait.
/// </param>
internal sealed record HangfirePolling(TimeSpan QueuePollInterval, TimeSpan SchedulePollingInterval, bool LongPolling)
{
    /// <summary>
    /// Measured with <c>dbfirst bench workers</c> (README, Scaling out): with LISTEN/NOTIFY a new job starts at once,
    /// so the queue is polled once a minute as a fallback instead of every 5 s.
    /// </summary>
    public static HangfirePolling Default { get; } = new(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(15), LongPolling: true);

    // Hangfire.PostgreSql refuses a queue poll interval under 50 ms.
    private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(50);

    // Hangfire refuses longer waits (int milliseconds); an hour is already far past any useful value.
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromHours(1);

    /// <summary>Reads the three keys; a value out of range stops start-up with one line naming its key.</summary>
    public static HangfirePolling Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new HangfirePolling(
            Interval(settings, "Hangfire:QueuePollInterval", Default.QueuePollInterval),
            Interval(settings, "Hangfire:SchedulePollingInterval", Default.SchedulePollingInterval),
            settings.Bool("Hangfire:LongPolling", Default.LongPolling));
    }

    private static TimeSpan Interval(SettingsReader settings, string key, TimeSpan fallback)
    {
        var value = settings.Time(key, fallback, positive: true);
        return value >= MinimumInterval && value <= MaximumInterval
            ? value
            : throw SettingsReader.Invalid(key, "a time span from 00:00:00.05 to 01:00:00", settings.Text(key) ?? "");
    }
}
