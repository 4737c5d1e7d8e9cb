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
    public async Task HalfIndex_SimilarImagesFilteredSearchAndNeighbourProbes_UseIt()
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
        var (filtered, filteredScans) = await ScalarWithScansAsync<long>(dataSource,
            $"SELECT count(*) FROM gallery.search_by_embedding((SELECT embedding FROM gallery.image_embeddings_m1 WHERE image_id = {firstId}), 10, '{folder}')");
        var (probed, probeScans) = await ScalarWithScansAsync<int>(dataSource,
            "SELECT gallery.refresh_neighbours(1, ARRAY(SELECT image_id FROM gallery.image_embeddings_m1 ORDER BY image_id LIMIT 20))");

        Assert.Equal(10, similar.Length);
        Assert.DoesNotContain(firstId, similar);
        Assert.True(similarScans >= 1, "similar_images did not scan the half index");
        Assert.Equal(10, filtered);
        Assert.True(filteredScans >= 1, $"a folder holding a fifteenth of the rows is searched through the index, not exactly: {filteredScans} scans");
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

    [Fact]
    public async Task Maintain_RebuildsAMissingHalfIndex_AtHalfPrecision_AndReindexKeepsIt()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(300, 512, 5, seed: 26), 5);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, M: 12, EfConstruction: 48, Precision: IndexPrecision.Half));
        await database.ExecuteAsync("DROP INDEX gallery.image_embeddings_m1_embedding_idx");

        var healed = await manager.MaintainAsync();
        var status = await manager.GetStatusAsync();

        Assert.Equal("rebuilt the missing index image_embeddings_m1_embedding_idx (hnsw, m = 12, ef_construction = 48) at half precision", healed);
        Assert.Equal(IndexPrecision.Half, status.Precision);
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
        Assert.Equal("the index precision must be full or half, not 'quarter'", bad.Message);
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
