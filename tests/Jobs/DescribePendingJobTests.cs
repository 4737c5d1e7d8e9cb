using System.Reflection;
using DbFirst.Claude;
using DbFirst.Jobs;
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
                await database.ExecuteAsync(
                    $"INSERT INTO gallery.image_gallery (path, describe_attempts, describe_requested_at) VALUES ('{path}', {(i == 0 ? 3 : 0)}, now())");
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

    [Fact]
    public async Task Run_DescribesOnlyTheRequestedImages_NotTheBacklog()
    {
        const string key = "sk-ant-job-test-requested-SECRET";
        await using var bed = await ClaudeTestBed.StartAsync(key);
        var ids = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await bed.AddImageAsync($"{i}.jpg"));
        }

        await bed.Database.ExecuteAsync($"SELECT gallery.request_description({ids[1]}), gallery.request_description({ids[3]})");
        await using var dataSource = bed.Database.CreateDataSource();
        var job = new DescribePendingJob(dataSource, new ClaudeOptions { ApiKey = key, BaseUrl = bed.Fake.BaseUrl, RequestsPerMinute = 6000 }, new DescribePendingLimits());

        var first = await job.RunAsync(CancellationToken.None);
        var second = await job.RunAsync(CancellationToken.None);

        Assert.StartsWith("described 2, failed 0", first);
        Assert.StartsWith("described 0, failed 0", second);
        Assert.Equal(2, bed.Fake.Requests.Count);
        Assert.Equal([ids[1], ids[3]], await DescribedIdsAsync(bed.Database));
        Assert.Equal(0L, await bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE describe_requested_at IS NOT NULL"));
    }

    private static async Task<long[]> DescribedIdsAsync(TestDatabase database) =>
        await database.ScalarAsync<long[]>("SELECT array_agg(id ORDER BY id) FROM gallery.image_gallery WHERE description IS NOT NULL") ?? [];
}
