using DbFirst.Search;
using DbFirst.Tests.Support;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Tests.Search;

/// <summary>The vector search SQL functions against exact brute-force answers computed in C#.</summary>
public sealed class SearchFunctionsTests : IClassFixture<SearchGalleryFixture>
{
    private readonly SearchGalleryFixture _gallery;

    public SearchFunctionsTests(SearchGalleryFixture gallery) => _gallery = gallery;

    [Theory]
    [InlineData(5, 10)]
    [InlineData(1234, 25)]
    public async Task SearchByEmbedding_WithSequentialScan_EqualsBruteForce(int row, int k)
    {
        var query = _gallery.Rows[row].Vector;

        var (hits, _) = await SearchAsync(Scan.Sequential, "SELECT id, distance FROM gallery.search_by_embedding($1, $2)", new Vector(query), k);

        var exact = _gallery.BruteForce(query, k);
        Assert.Equal(exact.Select(e => e.Id), hits.Select(h => h.Id));
        Assert.All(hits.Zip(exact), pair => Assert.Equal(pair.Second.Distance, pair.First.Distance, 4));
    }

    [Fact]
    public async Task SearchByEmbedding_ThroughTheIndex_IsNearestFirst_WithHighRecall()
    {
        var recalls = new List<double>();
        foreach (var row in new[] { 3, 77, 512, 1999, 2800 })
        {
            var query = _gallery.Rows[row].Vector;
            var (hits, indexScans) = await SearchAsync(Scan.Index, "SELECT id, distance FROM gallery.search_by_embedding($1, $2)", new Vector(query), 10);

            Assert.True(indexScans > 0, "the HNSW index was not used");
            Assert.Equal(10, hits.Count);
            Assert.Equal(hits.OrderBy(h => h.Distance).Select(h => h.Id), hits.Select(h => h.Id));
            recalls.Add(Recall(hits, _gallery.BruteForce(query, 10)));
        }

        Assert.True(recalls.Average() >= 0.9, $"recall@10 {recalls.Average():F2}");
    }

    [Fact]
    public async Task SimilarImages_LeavesTheImageOut_AndEqualsBruteForce()
    {
        var source = _gallery.Rows[42];

        var (hits, _) = await SearchAsync(Scan.Sequential, "SELECT id, distance FROM gallery.similar_images($1, $2)", source.Id, 8);

        var exact = _gallery.BruteForce(source.Vector, 9).Where(e => e.Id != source.Id).Take(8).ToList();
        Assert.DoesNotContain(source.Id, hits.Select(h => h.Id));
        Assert.Equal(exact.Select(e => e.Id), hits.Select(h => h.Id));
    }

    [Fact]
    public async Task SimilarImages_OfUnknownImage_SaysSo()
    {
        var search = new GallerySearch(_gallery.DataSource);

        var error = await Assert.ThrowsAsync<GalleryException>(() => search.SimilarAsync(987654321, 5));

        Assert.Equal("no image with id 987654321", error.Message);
    }

    [Fact]
    public async Task FilteredSearch_ByCaptureTime_ReturnsKRows_ThroughTheIndex()
    {
        // 60 consecutive minutes: 2% of the rows, two per cluster, so the query's own cluster has
        // almost none of them and the index scan must keep going (iterative scan) to find 10.
        var from = new DateTime(2020, 1, 1, 10, 0, 0, DateTimeKind.Utc);
        var to = from.AddMinutes(60);
        var query = _gallery.Rows[5].Vector;

        var (hits, indexScans) = await SearchAsync(Scan.Index,
            "SELECT id, distance FROM gallery.search_by_embedding($1, $2, taken_from => $3, taken_to => $4)",
            new Vector(query), 10, from, to);

        Assert.True(indexScans > 0, "the HNSW index was not used");
        Assert.Equal(10, hits.Count);
        var exact = _gallery.BruteForce(query, 10, row => row.TakenAt >= from && row.TakenAt < to);
        var passing = _gallery.Rows.Where(row => row.TakenAt >= from && row.TakenAt < to).Select(row => row.Id).ToHashSet();
        Assert.All(hits, hit => Assert.Contains(hit.Id, passing));
        Assert.True(Recall(hits, exact) >= 0.8, $"recall {Recall(hits, exact):F2}");
    }

    [Fact]
    public async Task FilteredSearch_ByFolder_FarFromTheQuery_ReturnsKRows_AndMatchesWholeFolderNames()
    {
        // The query comes from cluster 5; folder c007 holds only cluster 7, far away in the graph.
        var query = _gallery.Rows[5].Vector;

        var (hits, indexScans) = await SearchAsync(Scan.Index,
            "SELECT id, distance FROM gallery.search_by_embedding($1, $2, folder => $3)",
            new Vector(query), 10, "/synthetic/c007");

        // Since migration 82 indexes the path, the planner ranks a 100-row folder exactly (bitmap scan and
        // sort) rather than through HNSW: the answer must then be the exact one.
        Assert.Equal(10, hits.Count);
        var exact = _gallery.BruteForce(query, 10, row => row.Path.StartsWith("/synthetic/c007/", StringComparison.Ordinal));
        Assert.True(indexScans > 0 || Recall(hits, exact) == 1.0, $"neither through the index nor exact: recall {Recall(hits, exact):F2}");
        Assert.True(Recall(hits, exact) >= 0.8, $"recall {Recall(hits, exact):F2}");

        var (partial, _) = await SearchAsync(Scan.Index,
            "SELECT id, distance FROM gallery.search_by_embedding($1, $2, folder => $3)", new Vector(query), 10, "/synthetic/c00");
        Assert.Empty(partial);
    }

    [Fact]
    public async Task FilteredSimilarImages_ReturnsKRows_FromTheFolderOnly()
    {
        var search = new GallerySearch(_gallery.DataSource);

        var hits = await search.SimilarAsync(_gallery.Rows[5].Id, 12, new SearchFilter(Folder: "/synthetic/c011/"));

        Assert.Equal(12, hits.Count);
        Assert.All(hits, hit => Assert.StartsWith("/synthetic/c011/", hit.Path));
    }

    [Fact]
    public async Task NearDuplicates_FindsExactlyThePlantedPairs_OncePerPair()
    {
        var search = new GallerySearch(_gallery.DataSource);

        var pairs = await search.NearDuplicatesAsync(0.01);

        var expected = _gallery.PlantedDuplicates
            .SelectMany(group => group.SelectMany(a => group.Where(b => a < b).Select(b => (a, b))))
            .Order()
            .ToList();
        var bruteForce = BruteForcePairs(0.01);
        Assert.Equal(expected, bruteForce);
        Assert.Equal(expected, pairs.Select(p => (p.IdA, p.IdB)).Order().ToList());
        Assert.All(pairs, p => Assert.True(p.Distance <= 0.01));
    }

    [Fact]
    public async Task NearDuplicates_ReadsStoredPairs_WithoutProbingTheVectorIndex()
    {
        await using (var fill = _gallery.DataSource.CreateCommand("SELECT gallery.fill_neighbours(10000)"))
        {
            await fill.ExecuteScalarAsync();
        }

        await using var connection = await _gallery.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand("SET LOCAL enable_seqscan = off", connection, transaction))
        {
            await set.ExecuteNonQueryAsync();
        }

        // PostgreSQL 15 keeps a backend's unflushed counts from earlier transactions (the fill above, on this pooled
        // connection) in the "current transaction" figure for up to a second, so compare before and after.
        var before = await IndexScansAsync(connection, transaction);
        await using (var run = new NpgsqlCommand("SELECT count(*) FROM gallery.near_duplicates(0.01)", connection, transaction))
        {
            Assert.Equal(4L, await run.ExecuteScalarAsync());
        }

        Assert.Equal(before, await IndexScansAsync(connection, transaction));
    }

    [Fact]
    public async Task SearchFunctions_RejectBadArguments_WithClearErrors()
    {
        await using var connection = await _gallery.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM gallery.search_by_embedding($1, 0)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = new Vector(_gallery.Rows[0].Vector) });

        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InvalidParameterValue, error.SqlState);
        Assert.Contains("k must be between 1 and 1000", error.MessageText);
    }

    [Fact]
    public async Task GallerySearchMaxK_IsTheBoundTheSqlFunctionsEnforce()
    {
        var search = new GallerySearch(_gallery.DataSource);
        var query = _gallery.Rows[0].Vector;
        var id = _gallery.Rows[0].Id;

        var most = await search.SearchByEmbeddingAsync(query, GallerySearch.MaxK);
        var mostSimilar = await search.SimilarAsync(id, GallerySearch.MaxSimilarK);
        await ScalarAsync("SELECT count(*) FROM gallery.search_descriptions('x', $1)", GallerySearch.MaxK);
        var overSearch = await RejectedAsync("SELECT count(*) FROM gallery.search_by_embedding((SELECT embedding FROM gallery.image_embeddings LIMIT 1), $1)", GallerySearch.MaxK + 1);
        var overDescriptions = await RejectedAsync("SELECT count(*) FROM gallery.search_descriptions('x', $1)", GallerySearch.MaxK + 1);
        var overHybrid = await RejectedAsync("SELECT count(*) FROM gallery.hybrid_search('x', $1)", GallerySearch.MaxK + 1);
        var overSimilar = await RejectedAsync($"SELECT count(*) FROM gallery.similar_images({id}, $1)", GallerySearch.MaxSimilarK + 1);

        Assert.Equal(GallerySearch.MaxK, most.Count);
        Assert.Equal(GallerySearch.MaxSimilarK, mostSimilar.Count);
        Assert.Contains($"k must be between 1 and {GallerySearch.MaxK}", overSearch);
        Assert.Contains($"k must be between 1 and {GallerySearch.MaxK}", overDescriptions);
        Assert.Contains($"k must be between 1 and {GallerySearch.MaxK}", overHybrid);
        Assert.Contains($"k must be between 1 and {GallerySearch.MaxSimilarK}", overSimilar);
        await Assert.ThrowsAsync<GalleryException>(() => search.SearchByEmbeddingAsync(query, GallerySearch.MaxK + 1));
        await Assert.ThrowsAsync<GalleryException>(() => search.SimilarAsync(id, GallerySearch.MaxSimilarK + 1));
    }

    private async Task<object?> ScalarAsync(string sql, int k)
    {
        await using var command = _gallery.DataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = k, NpgsqlDbType = NpgsqlDbType.Integer });
        return await command.ExecuteScalarAsync();
    }

    private async Task<string> RejectedAsync(string sql, int k)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(sql, k));
        Assert.Equal(PostgresErrorCodes.InvalidParameterValue, error.SqlState);
        return error.MessageText;
    }

    [Fact]
    public async Task SearchFunctions_AreDocumented_AndNotExecutableByPublic()
    {
        await using var connection = await _gallery.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT p.proname, obj_description(p.oid, 'pg_proc') IS NOT NULL, has_function_privilege('public', p.oid, 'EXECUTE'), p.provolatile::text
            FROM pg_proc p WHERE p.pronamespace IN ('gallery'::regnamespace, 'gallery_encoder'::regnamespace)
            """, connection);
        var functions = new Dictionary<string, (bool Documented, bool Public, string Volatility)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                functions[reader.GetString(0)] = (reader.GetBoolean(1), reader.GetBoolean(2), reader.GetString(3));
            }
        }

        foreach (var name in new[] { "search_by_embedding", "similar_images", "search", "search_descriptions", "hybrid_search", "near_duplicates", "fill_neighbours", "neighbour_radius", "text_embedding", "fetch", "publish_embed_url", "search_tuning" })
        {
            Assert.True(functions.ContainsKey(name), name);
            Assert.True(functions[name].Documented, $"{name} has no COMMENT");
            Assert.False(functions[name].Public, $"{name} is executable by PUBLIC");
        }

        Assert.All(new[] { "search_by_embedding", "similar_images", "search_descriptions", "near_duplicates" }, name => Assert.Equal("s", functions[name].Volatility));
    }

    private List<(long, long)> BruteForcePairs(double maxDistance)
    {
        var rows = _gallery.Rows;
        var pairs = new List<(long, long)>();
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = i + 1; j < rows.Count; j++)
            {
                if (SyntheticGalleryDistance(rows[i].Vector, rows[j].Vector) <= maxDistance)
                {
                    pairs.Add((Math.Min(rows[i].Id, rows[j].Id), Math.Max(rows[i].Id, rows[j].Id)));
                }
            }
        }

        return pairs.Order().ToList();
    }

    private static double SyntheticGalleryDistance(float[] a, float[] b) => SyntheticGallery.CosineDistance(a, b);

    private static double Recall(IReadOnlyCollection<(long Id, double Distance)> hits, List<(long Id, double Distance)> exact)
    {
        var kth = exact[^1].Distance;
        return hits.Count(hit => hit.Distance <= kth + 1e-5) / (double)exact.Count;
    }

    private enum Scan
    {
        Index,
        Sequential,
    }

    private async Task<(List<(long Id, double Distance)> Hits, long IndexScans)> SearchAsync(Scan scan, string sql, params object[] parameters)
    {
        await using var connection = await _gallery.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var settings = scan == Scan.Index
            ? "SET LOCAL enable_seqscan = off"
            : "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off";
        await using (var set = new NpgsqlCommand(settings, connection, transaction))
        {
            await set.ExecuteNonQueryAsync();
        }

        var hits = new List<(long, double)>();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            foreach (var parameter in parameters)
            {
                command.Parameters.Add(parameter is DateTime time
                    ? new NpgsqlParameter { Value = time, NpgsqlDbType = NpgsqlDbType.TimestampTz }
                    : new NpgsqlParameter { Value = parameter });
            }

            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                hits.Add((reader.GetInt64(0), reader.GetFloat(1)));
            }
        }

        return (hits, await IndexScansAsync(connection, transaction));
    }

    private static async Task<long> IndexScansAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        // Counts of this transaction only, so parallel tests do not disturb it.
        await using var command = new NpgsqlCommand($"SELECT pg_stat_get_xact_numscans({TestEmbeddings.ActiveIndex})", connection, transaction);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
