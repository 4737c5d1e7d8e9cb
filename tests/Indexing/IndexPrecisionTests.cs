using DbFirst.Indexing;
using DbFirst.Tests.Support;
using Npgsql;
using Pgvector;

namespace DbFirst.Tests.Indexing;

public sealed class IndexPrecisionTests
{
    private const string ManagedIndex = "image_embeddings_m1_embedding_idx";

    [Fact]
    public async Task RebuildAtHalfPrecision_SearchFunctionsUseTheHalfIndex_AndMatchTheFullOne()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(4000, 512, 20, seed: 21);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 20);
        var manager = new VectorIndexManager(dataSource);
        var queries = vectors.Where((_, i) => i % 200 == 7).ToArray();
        var (full, _) = await SearchAsync(dataSource, queries);
        var fullSize = (await manager.GetStatusAsync()).SizeBytes;

        var build = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        var status = await manager.GetStatusAsync();
        var (half, scans) = await SearchAsync(dataSource, queries);

        Assert.Equal(IndexPrecision.Half, build.Precision);
        Assert.Equal(IndexPrecision.Half, status.Precision);
        Assert.Equal(ManagedIndex, status.IndexName);
        Assert.Contains("(embedding)::halfvec(512)) halfvec_cosine_ops", await IndexDefinitionAsync(database));
        Assert.Equal("half", await database.ScalarAsync<string>("SELECT gallery.index_precision(1)"));
        Assert.Equal("half", await database.ScalarAsync<string>("SELECT precision FROM gallery.index_builds ORDER BY id DESC LIMIT 1"));
        Assert.True(status.SizeBytes < 0.75 * fullSize, $"half-precision index {status.SizeBytes:N0} bytes, full {fullSize:N0}");
        // Every search went through the half index, not a scan of the partition.
        Assert.True(scans >= queries.Length, $"{scans} scans of the half index for {queries.Length} searches");
        var overlap = full.Zip(half, (f, h) => f.Select(x => x.Id).Intersect(h.Select(x => x.Id)).Count() / 10.0).Average();
        Assert.True(overlap >= 0.95, $"half-precision results share {overlap:P1} of the full-precision ones");
        // Distances stay full-precision: each hit's is the exact cosine distance, and hits come nearest first.
        for (var i = 0; i < queries.Length; i++)
        {
            Assert.Equal(10, half[i].Count);
            Assert.Equal(half[i].OrderBy(h => h.Distance).Select(h => h.Id), half[i].Select(h => h.Id));
            var hit = half[i][3];
            var exact = await ExactDistanceAsync(dataSource, hit.Id, queries[i]);
            Assert.Equal(exact, hit.Distance, 5);
        }
    }

    [Fact]
    public async Task HalfIndex_TheExpressionTheFunctionsOrderBy_IsPlannedAsAnIndexScan()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 22);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 10);
        var manager = new VectorIndexManager(dataSource);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        await database.ExecuteAsync("ANALYZE gallery.image_embeddings_m1");

        var expression = await database.ScalarAsync<string>("SELECT gallery.index_order_expression(1, 512, 'e.embedding', '$1')");
        var plan = await ExplainAsync(dataSource, $"SELECT e.image_id FROM gallery.image_embeddings e WHERE e.model_id = 1 ORDER BY {expression} LIMIT 10", vectors[5]);

        Assert.Equal("e.embedding::halfvec(512) <=> $1::halfvec(512)", expression);
        Assert.Contains($"Index Scan using {ManagedIndex}", plan);
    }

    [Fact]
    public async Task HalfIndex_SimilarImagesAndNeighbourProbes_UseIt_AndAFilteredSearchComesBackFull()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(3000, 512, 15, seed: 23);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 15);
        var manager = new VectorIndexManager(dataSource);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        var firstId = await database.ScalarAsync<long>("SELECT min(image_id) FROM gallery.image_embeddings_m1");
        var folder = await database.ScalarAsync<string>($"SELECT regexp_replace(path, '/[^/]*$', '') FROM gallery.image_gallery WHERE id = {firstId}");

        var (similar, similarScans) = await ScalarWithScansAsync<long[]>(dataSource, $"SELECT array_agg(id) FROM gallery.similar_images({firstId}, 10)");
        // A folder of 200 rows is ranked exactly since migration 120 (FilteredSearchTests checks that path); here it
        // only has to come back full.
        var (filtered, _) = await ScalarWithScansAsync<long>(dataSource,
            $"SELECT count(*) FROM gallery.search_by_embedding((SELECT embedding FROM gallery.image_embeddings_m1 WHERE image_id = {firstId}), 10, '{folder}')");
        var (probed, probeScans) = await ScalarWithScansAsync<int>(dataSource,
            "SELECT gallery.refresh_neighbours(1, ARRAY(SELECT image_id FROM gallery.image_embeddings_m1 ORDER BY image_id LIMIT 20))");

        Assert.Equal(10, similar.Length);
        Assert.DoesNotContain(firstId, similar);
        Assert.True(similarScans >= 1, "similar_images did not scan the half index");
        Assert.Equal(10, filtered);
        Assert.Equal(20, probed);
        Assert.True(probeScans >= 20, $"neighbour probes: {probeScans} index scans for 20 images");
        Assert.True(await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_neighbours WHERE model_id = 1 AND image_id IN (SELECT image_id FROM gallery.image_embeddings_m1 ORDER BY image_id LIMIT 20)") >= 20);
    }

    [Fact]
    public async Task SwitchingBackToFull_RestoresTheFullIndex_AndSearchesUseIt()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 24);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 10);
        var manager = new VectorIndexManager(dataSource);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));

        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw));
        var status = await manager.GetStatusAsync();
        var (hits, scans) = await SearchAsync(dataSource, [vectors[3]]);

        Assert.Equal(IndexPrecision.Full, status.Precision);
        Assert.Contains("(embedding)::vector(512)) vector_cosine_ops", await IndexDefinitionAsync(database));
        Assert.Equal("full", await database.ScalarAsync<string>("SELECT gallery.index_precision(1)"));
        Assert.Equal(10, hits[0].Count);
        Assert.True(scans >= 1, "the search did not scan the full-precision index");
    }

    [Fact]
    public async Task HalfIvfflat_IsBuiltAndSearched()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 25);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 10);
        var manager = new VectorIndexManager(dataSource);

        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat, Precision: IndexPrecision.Half));
        var status = await manager.GetStatusAsync();
        var (hits, scans) = await SearchAsync(dataSource, [vectors[3]]);

        Assert.Equal((VectorIndexManager.Ivfflat, IndexPrecision.Half), (status.Method, status.Precision));
        Assert.Contains("USING ivfflat (((embedding)::halfvec(512)) halfvec_cosine_ops)", await IndexDefinitionAsync(database));
        Assert.Equal(10, hits[0].Count);
        Assert.True(scans >= 1, "the search did not scan the half-precision IVFFlat index");
    }

    [Theory]
    [InlineData(IndexPrecision.Half)]
    [InlineData(IndexPrecision.Binary)]
    public async Task Maintain_RebuildsAMissingIndex_AtItsPrecision(string precision)
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(300, 512, 5, seed: 26), 5);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 12, EfConstruction: 48, Precision: precision));
        await database.ExecuteAsync("DROP INDEX gallery.image_embeddings_m1_embedding_idx");

        var healed = await manager.MaintainAsync();
        var status = await manager.GetStatusAsync();

        Assert.Equal($"rebuilt the missing index image_embeddings_m1_embedding_idx (hnsw, m = 12, ef_construction = 48) at {precision} precision", healed);
        Assert.Equal(precision, status.Precision);
        Assert.Equal(new HnswParameters(12, 48), status.Parameters);
    }

    [Fact]
    public async Task MigrateDownPast115_RebuildsAHalfIndexAtFullPrecision_SoSearchesStillUseAnIndex()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(1000, 512, 5, seed: 28);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 5);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 8, EfConstruction: 32, Precision: IndexPrecision.Half));

        await new DbFirst.Database.GalleryMigrator(database.ConnectionString).MigrateDownAsync(114);
        NpgsqlConnection.ClearAllPools();
        var (hits, scans) = await SearchAsync(dataSource, [vectors[1]]);

        Assert.Contains("USING hnsw (((embedding)::vector(512)) vector_cosine_ops) WITH (m='8', ef_construction='32')", await IndexDefinitionAsync(database));
        Assert.Equal(10, hits[0].Count);
        Assert.True(scans >= 1, "after the down step the search did not scan the rebuilt index");
    }

    [Fact]
    public async Task Tune_OnAHalfIndex_ReachesTheTarget_ThroughTheSearchFunctions()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(3000, 512, 30, seed: 29), 30);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        var log = new StringWriter();

        var report = await new IndexTuner(dataSource).TuneAsync(new TuneOptions(TargetRecall: 0.98, Queries: 60, K: 10), log);

        Assert.True(report.ReachedTarget, log.ToString());
        Assert.True(report.HeldOut.Recall >= 0.98, log.ToString());
        Assert.Equal(IndexPrecision.Half, (await new VectorIndexManager(dataSource).GetStatusAsync()).Precision);
    }

    [Fact]
    public async Task Plan_AtHalfPrecision_CountsTwoBytesADimension()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(300, 512, 5, seed: 27), 5);
        var manager = new VectorIndexManager(dataSource);

        var full = await manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Hnsw));
        var half = await manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        var bad = await Assert.ThrowsAsync<GalleryException>(() => manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: "quarter")));

        Assert.Equal(BuildPlanner.HnswBytesPerRow(512, 16), full.BytesPerRow);
        Assert.Equal(full.BytesPerRow - (2 * 512), half.BytesPerRow);
        Assert.Equal(IndexPrecision.Half, half.Precision);
        Assert.Contains("half precision", half.Describe()[0]);
        Assert.Equal("the index precision must be full, half or binary, not 'quarter'", bad.Message);
    }

    [Fact]
    public async Task BinaryIndex_SearchReturnsFullPrecisionDistancesInOrder_WithRecallOfBruteForce()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(4000, 512, 20, seed: 31);
        var ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 20);
        var manager = new VectorIndexManager(dataSource);
        var queries = Enumerable.Range(0, 20).Select(i => vectors[(i * 197) + 5]).ToArray();
        var fullSize = (await manager.GetStatusAsync()).SizeBytes;

        var build = await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        var status = await manager.GetStatusAsync();
        var (hits, scans) = await SearchAsync(dataSource, queries);

        Assert.Equal(IndexPrecision.Binary, build.Precision);
        Assert.Equal(IndexPrecision.Binary, status.Precision);
        Assert.Contains("USING hnsw (((binary_quantize((embedding)::vector(512)))::bit(512)) bit_hamming_ops)", await IndexDefinitionAsync(database));
        Assert.Equal("binary", await database.ScalarAsync<string>("SELECT gallery.index_precision(1)"));
        Assert.Equal("binary", await database.ScalarAsync<string>("SELECT precision FROM gallery.index_builds ORDER BY id DESC LIMIT 1"));
        Assert.True(status.SizeBytes < 0.3 * fullSize, $"binary index {status.SizeBytes:N0} bytes, full {fullSize:N0}");
        Assert.True(scans >= queries.Length, $"{scans} scans of the binary index for {queries.Length} searches");
        var recall = queries.Select((q, i) => BruteForce(vectors, ids, q, 10, exclude: null).Intersect(hits[i].Select(h => h.Id)).Count() / 10.0).Average();
        Assert.True(recall >= 0.9, $"recall@10 through the binary index {recall:P1}");
        for (var i = 0; i < queries.Length; i++)
        {
            Assert.Equal(10, hits[i].Count);
            Assert.Equal(hits[i].OrderBy(h => h.Distance).Select(h => h.Id), hits[i].Select(h => h.Id));
            foreach (var hit in hits[i].Where((_, j) => j % 3 == 0))
            {
                Assert.Equal(await ExactDistanceAsync(dataSource, hit.Id, queries[i]), hit.Distance, 5);
            }
        }
    }

    [Fact]
    public async Task BinaryIndex_TheExpressionTheFunctionsOrderBy_IsPlannedAsAnIndexScan()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 32);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 10);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        await database.ExecuteAsync("ANALYZE gallery.image_embeddings_m1");

        var expression = await database.ScalarAsync<string>("SELECT gallery.index_order_expression(1, 512, 'e.embedding', '$1')");
        var plan = await ExplainAsync(dataSource, $"SELECT e.image_id FROM gallery.image_embeddings e WHERE e.model_id = 1 ORDER BY {expression} LIMIT 100", vectors[5]);

        Assert.Equal("binary_quantize(e.embedding::vector(512))::bit(512) <~> binary_quantize($1)::bit(512)", expression);
        Assert.Contains($"Index Scan using {ManagedIndex}", plan);
    }

    [Fact]
    public async Task BinaryIndex_FilteredSearch_ReturnsExactlyK_AlsoWhenTheScanComesBackShort()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        // Two folders of 12,000 rows (more than the exact path's 10,000, so a folder filter takes the index path)
        // on opposite sides of the origin: every sign bit of one folder's rows is the flip of the other's.
        var vectors = OppositeFolders(24000, 64, seed: 33);
        var ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 2);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        var inFolder = ids.Where((_, i) => i % 2 == 1).ToHashSet();
        var folderVectors = vectors.Where((_, i) => i % 2 == 1).ToArray();
        var folderIds = ids.Where((_, i) => i % 2 == 1).ToArray();

        var (hits, scans) = await FilteredSearchAsync(dataSource, vectors[1], "/synthetic/c001", null);
        // From the other folder: its candidates by Hamming distance all fail the filter, and a scan allowed only the
        // first ef_search tuples comes back with none, so the exact fallback answers.
        var (shortHits, _) = await FilteredSearchAsync(dataSource, vectors[0], "/synthetic/c001", 1);

        foreach (var found in new[] { hits, shortHits })
        {
            Assert.Equal(10, found.Count);
            Assert.All(found, h => Assert.Contains(h.Id, inFolder));
            Assert.Equal(found.OrderBy(h => h.Distance).Select(h => h.Id), found.Select(h => h.Id));
        }

        Assert.True(scans >= 1, "the filtered search did not scan the binary index");
        Assert.Equal(BruteForce(folderVectors, folderIds, vectors[0], 10, exclude: null), shortHits.Select(h => h.Id));
    }

    // Row i (folder i % 2): ±(1, …, 1) plus Gaussian noise of standard deviation 0.5 a component, normalised.
    private static float[][] OppositeFolders(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var side = i % 2 == 0 ? 1.0 : -1.0;
            var v = Enumerable.Range(0, dimensions)
                .Select(_ => side + (0.5 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))
                .ToArray();
            var norm = Math.Sqrt(v.Sum(x => x * x));
            return v.Select(x => (float)(x / norm)).ToArray();
        }).ToArray();
    }

    [Fact]
    public async Task BinaryIndex_StoredNeighbours_AreFoundThroughIt_AndMatchBruteForce()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(3000, 512, 15, seed: 34);
        var ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 15);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        var probedIds = ids.Take(50).ToArray();

        var (probed, scans) = await ScalarWithScansAsync<int>(dataSource, $"SELECT gallery.refresh_neighbours(1, ARRAY[{string.Join(',', probedIds)}]::bigint[])");
        var nearest = new Dictionary<long, long>();
        await using (var command = dataSource.CreateCommand(
            "SELECT DISTINCT ON (image_id) image_id, neighbour_id FROM gallery.image_neighbours WHERE model_id = 1 ORDER BY image_id, distance, neighbour_id"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                nearest[reader.GetInt64(0)] = reader.GetInt64(1);
            }
        }

        Assert.Equal(50, probed);
        Assert.True(scans >= 50, $"neighbour probes: {scans} scans of the binary index for 50 images");
        var matching = probedIds.Count(id => nearest.TryGetValue(id, out var stored)
            && stored == BruteForce(vectors, ids, vectors[Array.IndexOf(ids, id)], 1, exclude: id)[0]);
        Assert.True(matching >= 45, $"{matching} of 50 images have brute force's nearest as their nearest stored neighbour");
    }

    [Fact]
    public async Task BinaryIndex_RerankFactor_IsASettingCheckedOnWrite_AndAnyValidOneSearches()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(1000, 512, 5, seed: 35);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 5);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));

        var initial = await database.ScalarAsync<int>("SELECT gallery.binary_rerank_factor()");
        var zero = await Assert.ThrowsAsync<PostgresException>(() => database.ExecuteAsync("UPDATE gallery.settings SET value = '0' WHERE key = 'binary.rerank_factor'"));
        var words = await Assert.ThrowsAsync<PostgresException>(() => database.ExecuteAsync("UPDATE gallery.settings SET value = 'ten' WHERE key = 'binary.rerank_factor'"));
        await database.ExecuteAsync("UPDATE gallery.settings SET value = '1' WHERE key = 'binary.rerank_factor'");
        var (one, _) = await SearchAsync(dataSource, [vectors[7]]);
        await database.ExecuteAsync("UPDATE gallery.settings SET value = '100' WHERE key = 'binary.rerank_factor'");
        var (hundred, _) = await SearchAsync(dataSource, [vectors[7]]);

        Assert.Equal(10, initial);
        Assert.Equal(PostgresErrorCodes.CheckViolation, zero.SqlState);
        Assert.Equal(PostgresErrorCodes.CheckViolation, words.SqlState);
        Assert.Equal(10, one[0].Count);
        Assert.Equal(10, hundred[0].Count);
        Assert.Equal(100, await database.ScalarAsync<int>("SELECT gallery.binary_rerank_factor()"));
    }

    [Fact]
    public async Task BinaryIndex_RebuildAtFullPrecision_SwitchesBack()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(2000, 512, 10, seed: 36);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 10);
        var manager = new VectorIndexManager(dataSource);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        var binary = await manager.GetStatusAsync();

        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Full));
        var status = await manager.GetStatusAsync();
        var (hits, scans) = await SearchAsync(dataSource, [vectors[3]]);

        Assert.Equal(IndexPrecision.Binary, binary.Precision);
        Assert.Equal(IndexPrecision.Full, status.Precision);
        Assert.Contains("(embedding)::vector(512)) vector_cosine_ops", await IndexDefinitionAsync(database));
        Assert.Equal("full", await database.ScalarAsync<string>("SELECT gallery.index_precision(1)"));
        Assert.Equal(10, hits[0].Count);
        Assert.True(scans >= 1, "the search did not scan the full-precision index");
    }

    [Fact]
    public async Task BinaryIndex_MigrateDownPast125_RebuildsItAtFullPrecision_AndUpAgainWorks()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(1000, 512, 5, seed: 38);
        await SyntheticGallery.LoadAsync(dataSource, vectors, 5);
        await new VectorIndexManager(dataSource).RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 8, EfConstruction: 32, Precision: IndexPrecision.Binary));
        var migrator = new DbFirst.Database.GalleryMigrator(database.ConnectionString);

        await migrator.MigrateDownAsync(124);
        NpgsqlConnection.ClearAllPools();
        var (hits, scans) = await SearchAsync(dataSource, [vectors[1]]);
        var definition = await IndexDefinitionAsync(database);
        var precisions = await database.ScalarAsync<string>("SELECT string_agg(DISTINCT precision, ',') FROM gallery.index_builds");
        var factorKept = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.settings WHERE key = 'binary.rerank_factor'");
        // Migration 120's search_model, settings included: it plans serially.
        var serialAfterDown = await database.ScalarAsync<bool>(DbFirst.Tests.Search.FilteredSearchTests.SearchModelPlansSeriallySql);
        await migrator.MigrateUpAsync();
        NpgsqlConnection.ClearAllPools();

        Assert.Contains("USING hnsw (((embedding)::vector(512)) vector_cosine_ops) WITH (m='8', ef_construction='32')", definition);
        Assert.Equal(10, hits[0].Count);
        Assert.True(scans >= 1, "after the down step the search did not scan the rebuilt index");
        Assert.Equal("full", precisions);
        Assert.Equal(0L, factorKept);
        Assert.True(serialAfterDown, "migrating down past 125 restored a search_model that is not migration 120's");
        Assert.Equal("full", await database.ScalarAsync<string>("SELECT gallery.index_precision(1)"));
        Assert.Equal(10, await database.ScalarAsync<int>("SELECT gallery.binary_rerank_factor()"));
    }

    [Fact]
    public async Task BinaryIndex_PlanCountsOneBitADimension_AndIvfflatIsRefused()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(1200, 512, 5, seed: 39), 5);
        var manager = new VectorIndexManager(dataSource);

        var full = await manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Hnsw));
        var binary = await manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Binary));
        var ivfflat = await Assert.ThrowsAsync<GalleryException>(() => manager.PlanAsync(new IndexBuildOptions(VectorIndexManager.Ivfflat, Precision: IndexPrecision.Binary)));

        Assert.Equal(full.BytesPerRow - (4 * 512) + (512 / 8), binary.BytesPerRow);
        Assert.Equal(BuildPlanner.HnswBytesPerRow(512, 16, IndexPrecision.Binary), binary.BytesPerRow);
        Assert.Equal(266 + 1 + (32 * 16), BuildPlanner.HnswBytesPerRow(3, 16, IndexPrecision.Binary));
        Assert.Equal(IndexPrecision.Binary, binary.Precision);
        Assert.Contains("binary precision", binary.Describe()[0]);
        Assert.StartsWith("binary precision applies to hnsw, not ivfflat", ivfflat.Message);
    }

    // The k ids nearest to query by exact cosine distance (ties by id), leaving out exclude.
    private static long[] BruteForce(float[][] vectors, long[] ids, float[] query, int k, long? exclude) =>
        vectors.Select((v, i) => (Id: ids[i], Distance: SyntheticGallery.CosineDistance(v, query)))
            .Where(x => x.Id != exclude)
            .OrderBy(x => x.Distance).ThenBy(x => x.Id)
            .Take(k)
            .Select(x => x.Id)
            .ToArray();

    // gallery.search_by_embedding(q, 10, folder) in one transaction, with hnsw.max_scan_tuples set when given.
    private static async Task<(List<(long Id, double Distance)> Hits, long Scans)> FilteredSearchAsync(NpgsqlDataSource dataSource, float[] query, string folder, int? maxScanTuples)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (maxScanTuples is { } tuples)
        {
            await using var set = new NpgsqlCommand($"SET LOCAL hnsw.max_scan_tuples = {tuples}", connection, transaction);
            await set.ExecuteNonQueryAsync();
        }

        var found = new List<(long Id, double Distance)>();
        await using (var command = new NpgsqlCommand("SELECT id, distance FROM gallery.search_by_embedding($1, 10, $2)", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = new Vector(query) });
            command.Parameters.Add(new NpgsqlParameter { Value = folder });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                found.Add((reader.GetInt64(0), reader.GetFloat(1)));
            }
        }

        await using var scans = new NpgsqlCommand(ScansSql, connection, transaction);
        var count = (long)(await scans.ExecuteScalarAsync())!;
        await transaction.CommitAsync();
        return (found, count);
    }

    // pg_stat_get_xact_numscans counts the index scans of the current transaction, those run inside the search
    // functions' dynamic SQL included: the proof that a function used the managed index.
    private const string ScansSql = $"SELECT pg_stat_get_xact_numscans('gallery.{ManagedIndex}'::regclass)";

    // gallery.search_by_embedding(q, 10) for each query, in one transaction: hits, and the managed index's scans.
    private static async Task<(List<List<(long Id, double Distance)>> Hits, long Scans)> SearchAsync(NpgsqlDataSource dataSource, float[][] queries)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var hits = new List<List<(long Id, double Distance)>>();
        foreach (var query in queries)
        {
            await using var command = new NpgsqlCommand("SELECT id, distance FROM gallery.search_by_embedding($1, 10)", connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = new Vector(query) });
            var found = new List<(long Id, double Distance)>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    found.Add((reader.GetInt64(0), reader.GetFloat(1)));
                }
            }

            hits.Add(found);
        }

        await using var scans = new NpgsqlCommand(ScansSql, connection, transaction);
        var count = (long)(await scans.ExecuteScalarAsync())!;
        await transaction.CommitAsync();
        return (hits, count);
    }

    private static async Task<(T Value, long Scans)> ScalarWithScansAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        var value = (T)(await command.ExecuteScalarAsync())!;
        await using var scans = new NpgsqlCommand(ScansSql, connection, transaction);
        var count = (long)(await scans.ExecuteScalarAsync())!;
        await transaction.CommitAsync();
        return (value, count);
    }

    private static async Task<string> IndexDefinitionAsync(TestDatabase database) =>
        (await database.ScalarAsync<string>($"SELECT pg_get_indexdef('gallery.{ManagedIndex}'::regclass)"))!;

    private static async Task<double> ExactDistanceAsync(NpgsqlDataSource dataSource, long id, float[] query)
    {
        await using var command = dataSource.CreateCommand("SELECT (embedding <=> $1)::real FROM gallery.image_embeddings_m1 WHERE image_id = $2");
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(query) });
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        return (float)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<string> ExplainAsync(NpgsqlDataSource dataSource, string sql, float[] query)
    {
        await using var command = dataSource.CreateCommand("EXPLAIN " + sql);
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(query) });
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
