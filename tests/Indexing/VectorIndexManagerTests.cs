using System.Collections.Concurrent;
using DbFirst.Indexing;
using DbFirst.Search;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Indexing;

public sealed class VectorIndexManagerTests
{
    [Fact]
    public async Task Rebuild_SwapsTheIndex_WhileASearchLoopKeepsAnswering()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(4000, 512, 20, seed: 11);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 20);
        var manager = new VectorIndexManager(dataSource);
        var search = new GallerySearch(dataSource);
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<Exception>();
        var answered = 0;
        var loop = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    var hits = await search.SearchByEmbeddingAsync(vectors[i % vectors.Length], 10);
                    if (hits.Count != 10)
                    {
                        failures.Enqueue(new InvalidOperationException($"{hits.Count} hits"));
                    }

                    Interlocked.Increment(ref answered);
                }
                catch (Exception exception)
                {
                    failures.Enqueue(exception);
                }
            }
        });

        var log = new StringWriter();
        var ivfflat = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat), log);
        var afterIvfflat = Volatile.Read(ref answered);
        var ivfflatStatus = await manager.GetStatusAsync();
        var hnsw = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 8, EfConstruction: 32), log);
        await Task.Delay(200);
        await stop.CancelAsync();
        await loop;

        Assert.Empty(failures);
        Assert.True(afterIvfflat > 0 && answered > afterIvfflat, $"searches answered: {afterIvfflat} during the first rebuild, {answered} in all");
        Assert.Equal(new IvfflatParameters(4), ivfflat.Parameters);
        Assert.Equal(VectorIndexManager.Ivfflat, ivfflatStatus.Method);
        Assert.Equal("ivfflat.probes", ivfflatStatus.SearchSetting);
        Assert.Equal(new HnswParameters(8, 32), hnsw.Parameters);
        var status = await manager.GetStatusAsync();
        Assert.Equal("image_embeddings_m1_embedding_idx", status.IndexName);
        Assert.Equal(new HnswParameters(8, 32), status.Parameters);
        Assert.True(status.IsValid);
        Assert.Equal(4000, status.Rows);
        Assert.NotNull(status.LastBuild);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'image_embeddings_m1' AND indexdef ~ 'USING (hnsw|ivfflat)'"));
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds"));
    }

    [Fact]
    public async Task Rebuild_RefusesEmptyAndTinyTables_WithClearMessages()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);

        var empty = await Assert.ThrowsAsync<GalleryException>(() => manager.RebuildAsync(new IndexBuildOptions()));
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(50, 512, 5, seed: 1), 5);
        var tiny = await Assert.ThrowsAsync<GalleryException>(() => manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat)));
        var badType = await Assert.ThrowsAsync<GalleryException>(() => manager.RebuildAsync(new IndexBuildOptions("btree")));

        Assert.Contains("no embedded rows", empty.Message);
        Assert.Contains("only 50 embedded rows", tiny.Message);
        Assert.Contains("needs at least 1,000", tiny.Message);
        Assert.Contains("hnsw or ivfflat", badType.Message);
        Assert.Equal(VectorIndexManager.Hnsw, (await manager.GetStatusAsync()).Method);
    }

    [Theory]
    [InlineData(500, 1)]
    [InlineData(100_000, 100)]
    [InlineData(1_000_000, 1000)]
    [InlineData(4_000_000, 2000)]
    public void IvfflatLists_FollowPgvectorsRule(long rows, int lists) => Assert.Equal(lists, IvfflatLists.ForRows(rows));

    [Fact]
    public async Task Maintain_RebuildsIvfflat_AfterDrift_AndReindexesBloatedHnsw()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 5), 10);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat));

        var current = await manager.MaintainAsync();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(1000, 512, 10, seed: 6), 10, root: "/more");
        var drifted = await manager.MaintainAsync();

        Assert.StartsWith("IVFFlat index is current", current);
        Assert.StartsWith("rebuilt IVFFlat index (lists = 3)", drifted);

        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw));
        var healthy = await manager.MaintainAsync();
        await database.ExecuteAsync("DELETE FROM gallery.image_gallery WHERE starts_with(path, '/more/')");
        await WaitForStatisticsAsync(database, 1000);
        var bloated = await manager.MaintainAsync();

        Assert.Equal("HNSW index is healthy", healthy);
        Assert.StartsWith("reindexed HNSW index concurrently", bloated);
        Assert.Equal("reindex", await database.ScalarAsync<string>("SELECT operation FROM gallery.index_builds ORDER BY id DESC LIMIT 1"));
    }

    [Fact]
    public async Task Maintain_RebuildsAnInvalidIndex_WithItsParameters()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(300, 512, 5, seed: 7), 5);
        await database.ExecuteAsync("DROP INDEX gallery.image_embeddings_m1_embedding_idx");
        await InvalidIndex.CreateAsync(database,
            "CREATE INDEX CONCURRENTLY image_embeddings_m1_embedding_idx ON gallery.image_embeddings_m1 USING hnsw ((embedding::vector(512)) vector_cosine_ops) WITH (m = 8, ef_construction = 40)");
        var before = await manager.GetStatusAsync();

        var healed = await manager.MaintainAsync();
        var after = await manager.GetStatusAsync();
        var again = await manager.MaintainAsync();

        Assert.False(before.IsValid);
        Assert.StartsWith("rebuilt the invalid index image_embeddings_m1_embedding_idx (hnsw, m = 8, ef_construction = 40)", healed);
        Assert.True(after.IsValid);
        Assert.Equal(new HnswParameters(8, 40), after.Parameters);
        Assert.Equal("HNSW index is healthy", again);
    }

    [Fact]
    public async Task Maintain_RebuildsAMissingIndex_AsItWasLastBuilt()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(300, 512, 5, seed: 8), 5);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 12, EfConstruction: 48));
        await database.ExecuteAsync("DROP INDEX gallery.image_embeddings_m1_embedding_idx");

        var healed = await manager.MaintainAsync();

        Assert.StartsWith("rebuilt the missing index image_embeddings_m1_embedding_idx (hnsw, m = 12, ef_construction = 48)", healed);
        Assert.True((await manager.GetStatusAsync()).IsValid);
    }

    [Fact]
    public async Task Maintain_DropsAnInvalidSpareLeftByAnInterruptedRebuild()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(100, 512, 5, seed: 9), 5);
        await InvalidIndex.CreateAsync(database,
            "CREATE INDEX CONCURRENTLY image_embeddings_m1_embedding_idx_new ON gallery.image_embeddings_m1 USING hnsw ((embedding::vector(512)) vector_cosine_ops)");

        var healed = await manager.MaintainAsync();

        Assert.Equal("dropped image_embeddings_m1_embedding_idx_new, left behind by an interrupted rebuild; HNSW index is healthy", healed);
        Assert.Null(await database.ScalarAsync<string>("SELECT to_regclass('gallery.image_embeddings_m1_embedding_idx_new')::text"));
    }

    [Fact]
    public async Task Rebuild_ReplacesOnlyTheManagedIndex_AndLeavesADbasIndexAlone()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(200, 512, 5, seed: 10), 5);
        await database.ExecuteAsync("CREATE INDEX dba_embedding_l2_idx ON gallery.image_embeddings_m1 USING hnsw ((embedding::vector(512)) vector_l2_ops) WITH (m = 4)");

        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 8, EfConstruction: 32));
        var maintained = await manager.MaintainAsync();

        Assert.NotNull(await database.ScalarAsync<string>("SELECT to_regclass('gallery.dba_embedding_l2_idx')::text"));
        Assert.Equal(new HnswParameters(8, 32), (await manager.GetStatusAsync()).Parameters);
        Assert.Equal(2L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'image_embeddings_m1' AND indexdef ~ 'USING (hnsw|ivfflat)'"));
        Assert.Equal("HNSW index is healthy", maintained);
    }

    [Fact]
    public async Task Tune_ReachesTheTarget_OnTheHeldOutQueries_AndSearchesApplyIt()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(3000, 512, 30, seed: 9), 30);
        var log = new StringWriter();

        var report = await new IndexTuner(dataSource).TuneAsync(new TuneOptions(TargetRecall: 0.98, Queries: 60, K: 10), log);

        Assert.True(report.ReachedTarget, log.ToString());
        Assert.True(report.HeldOut.Recall >= 0.98, log.ToString());
        Assert.True(report.Stored);
        Assert.Equal(report.Chosen.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            await database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'hnsw.ef_search'"));
        Assert.Contains("held-out", log.ToString());
        var status = await new VectorIndexManager(dataSource).GetStatusAsync();
        Assert.Equal(report.Chosen.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), status.SearchValue);
        Assert.Contains("held-out", status.SearchNote);
    }

    // The statistics collector publishes table counters with a short delay.
    private static async Task WaitForStatisticsAsync(TestDatabase database, long deletes)
    {
        for (var i = 0; i < 50; i++)
        {
            await database.ExecuteAsync("SELECT pg_stat_force_next_flush()");
            if (await database.ScalarAsync<long>("SELECT n_tup_del FROM pg_stat_user_tables WHERE relid = 'gallery.image_embeddings_m1'::regclass") >= deletes)
            {
                return;
            }

            await Task.Delay(100);
        }
    }
}
