using DbFirst.Configuration;
using DbFirst.Jobs;
using Hangfire;
using Hangfire.Common;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class RecurringJobCatalogTests
{
    [Fact]
    public void Defaults_ScheduleEmbedPendingEveryMinute()
    {
        var manager = new RecordingManager();

        var scheduled = RecurringJobCatalog.Register(manager, Configuration());

        Assert.Contains("embed-pending", scheduled);
        var (job, cron) = manager.Added["embed-pending"];
        Assert.Equal("* * * * *", cron);
        Assert.Equal(typeof(EmbedPendingJob), job.Type);
    }

    [Fact]
    public void Configuration_OverridesCron_AndDisablingRemovesTheJob()
    {
        var overridden = new RecordingManager();
        RecurringJobCatalog.Register(overridden, Configuration(("Jobs:embed-pending:Cron", "*/5 * * * *")));
        var disabled = new RecordingManager();
        var scheduled = RecurringJobCatalog.Register(disabled, Configuration(("Jobs:embed-pending:Enabled", "false")));

        Assert.Equal("*/5 * * * *", overridden.Added["embed-pending"].Cron);
        Assert.DoesNotContain("embed-pending", scheduled);
        Assert.Contains("embed-pending", disabled.Removed);
    }

    [Fact]
    public void EveryJobId_IsKebabCase_AndEveryJobMethod_StatesItsRetryPolicy()
    {
        Assert.All(RecurringJobCatalog.Entries, entry => Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", entry.Id));
        var jobMethods = typeof(EmbedPendingJob).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Job", StringComparison.Ordinal))
            .SelectMany(t => t.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly));
        // Attribute data, not instances: constructing AutomaticRetryAttribute touches Hangfire's global logging.
        Assert.All(jobMethods, method => Assert.Contains(method.GetCustomAttributesData(), a => a.AttributeType == typeof(AutomaticRetryAttribute)));
    }

    private static IReadOnlyList<RecurringJobSchedule> Configuration(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();
        return RecurringJobCatalog.Read(new SettingsReader(key => configuration[key]));
    }

    private sealed class RecordingManager : IRecurringJobManager
    {
        public Dictionary<string, (Job Job, string Cron)> Added { get; } = [];

        public List<string> Removed { get; } = [];

        public void AddOrUpdate(string recurringJobId, Job job, string cronExpression, RecurringJobOptions options) =>
            Added[recurringJobId] = (job, cronExpression);

        public void Trigger(string recurringJobId)
        {
        }

        public void RemoveIfExists(string recurringJobId) => Removed.Add(recurringJobId);
    }
}
