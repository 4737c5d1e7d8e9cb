using System.Reflection;
using DbFirst.Claude;
using DbFirst.Jobs;
using DbFirst.Tests.Support;
using Hangfire;

namespace DbFirst.Tests.Jobs;

public sealed class CollectDescribeBatchesJobTests
{
    private static readonly MethodInfo s_run = typeof(CollectDescribeBatchesJob).GetMethod(nameof(CollectDescribeBatchesJob.RunAsync))!;

    [Fact]
    public void Job_TakesOnlyACancellationToken_AndHasNoHangfireRetries()
    {
        Assert.Equal([typeof(CancellationToken)], s_run.GetParameters().Select(p => p.ParameterType));
        Assert.Equal(0, s_run.GetCustomAttribute<AutomaticRetryAttribute>()!.Attempts);
    }

    [Fact]
    public void Catalog_HasCollectDescribeBatches_OnByDefault_EveryTenMinutes()
    {
        var entry = Assert.Single(RecurringJobCatalog.Entries, e => e.Id == "collect-describe-batches");
        Assert.True(entry.EnabledByDefault);
        Assert.Equal("*/10 * * * *", entry.DefaultCron);
    }

    [Fact]
    public async Task Run_StoresEndedBatches_AndWithNothingPendingNeedsNoKey()
    {
        const string key = "sk-ant-collect-job-SECRET";
        await using var database = await TestDatabase.CreateAsync();
        await using var fake = await FakeMessagesApi.StartAsync(key);
        var folder = Directory.CreateTempSubdirectory("dbfirst-collect-").FullName;
        try
        {
            await using var dataSource = database.CreateDataSource();
            var idle = await new CollectDescribeBatchesJob(dataSource, new ClaudeOptions { BaseUrl = fake.BaseUrl }).RunAsync(CancellationToken.None);

            var path = Path.Combine(folder, "a.jpg");
            await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(100, 100));
            await database.ExecuteAsync($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}')");
            var options = new ClaudeOptions { ApiKey = key, BaseUrl = fake.BaseUrl, RequestsPerMinute = 6000 };
            using (var describer = new GalleryBatchDescriber(dataSource, options))
            {
                await describer.SubmitAsync(new DescribeRequest([], All: true));
            }

            var result = await new CollectDescribeBatchesJob(dataSource, options).RunAsync(CancellationToken.None);

            Assert.StartsWith("collected 0 batches", idle);
            Assert.StartsWith("collected 1 batches: described 1, failed 0", result);
            Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE description IS NOT NULL"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
