using DbFirst.Tests.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class EmbeddingOnIngestTests
{
    [Fact]
    public async Task Ingest_ThatAddsRows_EnqueuesEmbedPending_AndANoOpRerunDoesNot()
    {
        using var folder = new ScratchFolder();
        folder.Write("one.jpg", TestImages.Jpeg(64, 48, seed: 1));
        folder.Write("two.png", TestImages.Png(64, 48, seed: 2));
        await using var database = await TestDatabase.CreateAsync();

        var first = await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString);
        var second = await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString);

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("enqueued embed-pending", first.Error);
        Assert.Equal(0, second.ExitCode);
        Assert.DoesNotContain("enqueued", second.Error);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%EmbedPendingJob%'"));
    }
}
