using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class EmbeddingJobQueueTests
{
    [Fact]
    public async Task Enqueue_PutsEmbedPendingOnTheQueue_WithNoSecretInItsArguments()
    {
        await using var database = await TestDatabase.CreateAsync();

        var id = await EmbeddingJobQueue.EnqueueAsync(database.ConnectionString);

        Assert.False(string.IsNullOrEmpty(id));
        var invocation = await database.ScalarAsync<string>($"SELECT invocationdata::text FROM hangfire.job WHERE id = {long.Parse(id, System.Globalization.CultureInfo.InvariantCulture)}");
        var arguments = await database.ScalarAsync<string>($"SELECT arguments::text FROM hangfire.job WHERE id = {long.Parse(id, System.Globalization.CultureInfo.InvariantCulture)}");
        Assert.Contains("EmbedPendingJob", invocation);
        Assert.DoesNotContain("Password", invocation + arguments, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("dbfirst", arguments);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM hangfire.jobqueue WHERE queue = 'default'"));
    }
}
