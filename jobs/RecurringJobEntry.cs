using Hangfire;

namespace DbFirst.Jobs;

/// <summary>One recurring job of the <see cref="RecurringJobCatalog"/>.</summary>
/// <param name="Id">Kebab-case id, also the configuration key under <c>Jobs:</c>.</param>
/// <param name="DefaultCron">Schedule when <c>Jobs:&lt;id&gt;:Cron</c> is not set.</param>
/// <param name="Schedule">Adds or updates the job with the given id and cron expression.</param>
/// <param name="EnabledByDefault">Whether it runs when <c>Jobs:&lt;id&gt;:Enabled</c> is not set; false for jobs that cost money.</param>
internal sealed record RecurringJobEntry(string Id, string DefaultCron, Action<IRecurringJobManager, string, string> Schedule, bool EnabledByDefault = true);
