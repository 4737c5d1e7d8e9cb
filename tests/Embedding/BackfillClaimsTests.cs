using DbFirst.Embedding;
using DbFirst.Models;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Embedding;

/// <summary>Claims for a staged model while the active one is complete: the backfill a `model stage` starts.</summary>
public sealed class BackfillClaimsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-backfill-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TwoPipelinesBackfillingOneModel_EmbedEachRowOnce_AndLeaveTheActiveModelAlone()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 600));
        await using var first = database.CreateDataSource();
        await using var second = database.CreateDataSource();
        await new EmbeddingPipeline(first, new CountingEmbedder("active"), new EmbeddingOptions { BatchSize = 64 }).RunAsync(new EmbeddingRequest());
        var staged = await TestEmbeddings.StageAsync(database, "backfill", 512);
        var model = new RegisteredModel(staged, "backfill", 512, null, null, "staged");
        var embedder = new CountingEmbedder("backfill");
        var options = new EmbeddingOptions { BatchSize = 16 };

        var results = await Task.WhenAll(
            new EmbeddingPipeline(first, model, embedder, options).RunAsync(new EmbeddingRequest()),
            new EmbeddingPipeline(second, model, embedder, options).RunAsync(new EmbeddingRequest()));

        Assert.Equal(600, results.Sum(r => r.Embedded));
        Assert.All(results, r => Assert.True(r.Embedded > 0, "both pipelines should have done some of the work"));
        Assert.Equal(600, embedder.EncodedRows);
        Assert.All(embedder.EncodedPaths.Values, count => Assert.Equal(1, count));
        Assert.Equal("active:600:600,backfill:600:600", await database.ScalarAsync<string>(
            "SELECT string_agg(name || ':' || embedded || ':' || total, ',' ORDER BY model_id) FROM gallery.model_coverage()"));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.embedding_pending"));
    }

    [Fact]
    public async Task AClaimWhoseConnectionDies_LosesNothing_AndItsRowsArePendingAgain()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 40));
        await using var dataSource = database.CreateDataSource();
        await TestEmbeddings.RegisterActiveAsync(database, "active", 512);
        var active = new RegisteredModel(await database.ScalarAsync<int>("SELECT id FROM gallery.clip_models"), "active", 512, null, null, "active");
        var store = new EmbeddingStore(dataSource, new EmbeddingOptions());
        var started = await store.NowAsync(CancellationToken.None);
        var claim = await store.ClaimAsync(active, 16, started, CancellationToken.None);
        Assert.NotNull(claim);

        // What a killed worker leaves: its backend ends, and PostgreSQL rolls the claim back.
        await database.ExecuteAsync(
            $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database.Name}' AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'");
        await claim.DisposeAsync();
        var result = await new EmbeddingPipeline(dataSource, active, new CountingEmbedder("active"), new EmbeddingOptions { BatchSize = 8 }).RunAsync(new EmbeddingRequest());

        Assert.Equal(40, result.Embedded);
        Assert.Equal(40L, await TestEmbeddings.CountAsync(database));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.embedding_pending"));
    }
}
