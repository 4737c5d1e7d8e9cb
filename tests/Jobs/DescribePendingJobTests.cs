using System.Reflection;
using DbFirst.Claude;
using DbFirst.Jobs;
using DbFirst.Runner.Bench;
using DbFirst.Tests.Support;
using Hangfire;

namespace DbFirst.Tests.Jobs;

public sealed class DescribePendingJobTests
{
    private static readonly MethodInfo s_run = typeof(DescribePendingJob).GetMethod(nameof(DescribePendingJob.RunAsync))!;

    [Fact]
    public void Job_HasNoHangfireRetries_BecauseTheClientRetriesPerImage()
    {
        Assert.Equal(0, s_run.GetCustomAttribute<AutomaticRetryAttribute>()!.Attempts);
    }

    [Fact]
    public void Job_TakesOnlyACancellationToken_SoNoKeyReachesHangfireStorage()
    {
        Assert.Equal([typeof(CancellationToken)], s_run.GetParameters().Select(p => p.ParameterType));
    }

    [Fact]
    public void Catalog_HasDescribePending_OffByDefault()
    {
        var entry = Assert.Single(RecurringJobCatalog.Entries, e => e.Id == "describe-pending");
        Assert.False(entry.EnabledByDefault);
    }

    [Fact]
    public async Task Run_RespectsTheImageCap_AndSkipsImagesThatFailedTooOften()
    {
        const string key = "sk-ant-job-test-SECRET";
        await using var database = await TestDatabase.CreateAsync();
        await using var fake = await FakeMessagesApi.StartAsync(key);
        var folder = Directory.CreateTempSubdirectory("dbfirst-job-").FullName;
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var path = Path.Combine(folder, $"{i}.jpg");
                await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(100, 100));
                await database.ExecuteAsync($"INSERT INTO gallery.image_gallery (path, describe_attempts) VALUES ('{path}', {(i == 0 ? 3 : 0)})");
            }

            await using var dataSource = database.CreateDataSource();
            var job = new DescribePendingJob(dataSource, new ClaudeOptions { ApiKey = key, BaseUrl = fake.BaseUrl, RequestsPerMinute = 6000 },
                DescribePendingLimits.FromConfiguration(name => name switch
                {
                    "Jobs:describe-pending:MaxImages" => "3",
                    "Jobs:describe-pending:MaxFailedAttempts" => "3",
                    _ => null,
                }));

            var result = await job.RunAsync(CancellationToken.None);

            Assert.StartsWith("described 3, failed 0", result);
            Assert.Equal(3, fake.Requests.Count);
            Assert.Null(await database.ScalarAsync<string>("SELECT description FROM gallery.image_gallery WHERE id = 1"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
