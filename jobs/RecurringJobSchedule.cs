namespace DbFirst.Jobs;

/// <summary>How one catalogued job is configured: whether it runs and when.</summary>
/// <param name="Id">The job's kebab-case id.</param>
/// <param name="Enabled"><c>Jobs:&lt;id&gt;:Enabled</c>, else the entry's default.</param>
/// <param name="Cron"><c>Jobs:&lt;id&gt;:Cron</c>, else the entry's default.</param>
internal sealed record RecurringJobSchedule(string Id, bool Enabled, string Cron);
