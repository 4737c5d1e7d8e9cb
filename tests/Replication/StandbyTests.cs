using DbFirst.Indexing;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Replication;

/// <summary>
/// Analysts on a streaming standby made by <c>scripts/db.sh replica start</c> of the test cluster: the standby replays
/// what the primary writes, and every analyst function answers there as on the primary, <c>gallery.search</c> included
/// (it asks the primary's encoder and, being read-only, caches nothing).
/// </summary>
[Collection(ServerRestartCollection.Name)]
public sealed class StandbyTests : IClassFixture<StandbyFixture>
{
    private const int Count = StandbyFixture.Count;
    private readonly TestDatabase _primary;
    private readonly long[] _ids;

    public StandbyTests(StandbyFixture fixture)
    {
        _primary = fixture.Primary;
        _ids = fixture.Ids;
    }

    [StandbyFact]
    public async Task Standby_AnswersEveryAnalystFunction_AsThePrimaryDoes_AndFollowsItsWrites()
    {
        var standby = StandbyCluster.ConnectionString(_primary.Name);
        await WaitForAsync(standby, $"SELECT count(*) = {Count} FROM gallery.image_gallery");

        // Written on the primary after the copy was taken: it must arrive by streaming.
        await _primary.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'A red kite over the dunes.' WHERE id = {_ids[42]}");
        await WaitForAsync(standby, $"SELECT description IS NOT NULL FROM gallery.image_gallery WHERE id = {_ids[42]}");

        string[] queries =
        [
            "SELECT id, distance FROM gallery.search('image 7', 5)",
            $"SELECT id, distance FROM gallery.similar_images({_ids[3]}, 5)",
            "SELECT id, rank FROM gallery.search_descriptions('red kite', 5)",
            "SELECT id, score FROM gallery.hybrid_search('image 9', 5)",
            "SELECT id_a, id_b FROM gallery.near_duplicates(2.0) ORDER BY 1, 2 LIMIT 20",
        ];
        foreach (var sql in queries)
        {
            var onPrimary = await AsAnalystAsync(_primary.ConnectionString, sql);
            var onStandby = await AsAnalystAsync(standby, sql);

            Assert.True(onStandby.Count > 0, $"no rows on the standby from {sql}");
            Assert.Equal(onPrimary, onStandby);
        }

        // An uncached text on the standby reaches the encoder and is not written there (it cannot be).
        var uncached = await AsAnalystAsync(standby, "SELECT id, distance FROM gallery.search('image 123', 3)");
        Assert.Equal(_ids[123].ToString(System.Globalization.CultureInfo.InvariantCulture), uncached[0].Split(' ')[0]);
        Assert.Equal(0L, await _primary.ScalarAsync<long>("SELECT count(*) FROM gallery.text_embeddings WHERE query = 'image 123'"));
    }

    [StandbyFact]
    public async Task Standby_SearchesThroughAHalfPrecisionIndex_BuiltOnThePrimary()
    {
        var standby = StandbyCluster.ConnectionString(_primary.Name);
        var similar = $"SELECT id, distance FROM gallery.similar_images({_ids[3]}, 5)";
        var scans = $"""
            WITH hits AS MATERIALIZED ({similar})
            SELECT h.n, pg_stat_get_xact_numscans('gallery.image_embeddings_m1_embedding_idx'::regclass)
            FROM (SELECT count(*) AS n FROM hits) h
            """;
        await using var dataSource = _primary.CreateDataSource();
        var manager = new VectorIndexManager(dataSource);
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: IndexPrecision.Half));
        await WaitForAsync(standby, "SELECT gallery.index_precision(1) = 'half'");

        var onPrimary = await AsAnalystAsync(_primary.ConnectionString, similar);
        var onStandby = await AsAnalystAsync(standby, similar);
        var scannedOnStandby = await AsAnalystAsync(standby, scans);
        // Leave the full index the other tests compare through, replayed on the standby too.
        await manager.RebuildAsync(new IndexBuildOptions(VectorIndexManager.Hnsw));
        await WaitForAsync(standby, "SELECT gallery.index_precision(1) = 'full'");

        Assert.Equal(5, onStandby.Count);
        Assert.Equal(onPrimary, onStandby);
        var counts = scannedOnStandby.Single().Split(' ').Select(x => long.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(5, counts[0]);
        Assert.True(counts[1] >= 1, "the standby's search did not scan the half-precision index");
    }

    [StandbyFact]
    public async Task Monitor_ShowsTheStandbyStreaming_OnThePrimary_AndItsOwnDelay_OnTheStandby()
    {
        var standby = StandbyCluster.ConnectionString(_primary.Name);
        await WaitForAsync(standby, "SELECT true");

        var onPrimary = await AsAppAsync(_primary.ConnectionString, "SELECT standby, state, replay_lag_seconds >= 0 FROM gallery_monitor.replication()");
        var onStandby = await AsAppAsync(standby, "SELECT coalesce(standby, '-'), state, replay_lag_seconds >= 0 FROM gallery_monitor.replication()");

        Assert.Contains($"{StandbyCluster.Name} streaming True", onPrimary);
        Assert.Equal(["- standby True"], onStandby);
    }

    private static async Task WaitForAsync(string connectionString, string condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(condition, connection);
                if (await command.ExecuteScalarAsync() is true)
                {
                    return;
                }
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.InvalidCatalogName && DateTime.UtcNow < deadline)
            {
                // The database itself has not been replayed yet.
            }

            Assert.True(DateTime.UtcNow < deadline, $"the standby did not reach '{condition}' within 30 s");
            await Task.Delay(100);
        }
    }

    private static Task<List<string>> AsAnalystAsync(string connectionString, string sql) => QueryAsync(connectionString, "SET ROLE gallery_analyst", sql);

    private static Task<List<string>> AsAppAsync(string connectionString, string sql) => QueryAsync(connectionString, "SET ROLE dbfirst_app", sql);

    private static async Task<List<string>> QueryAsync(string connectionString, string setRole, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var role = new NpgsqlCommand(setRole, connection))
        {
            await role.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join(' ', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
