using DbFirst.Indexing;
using DbFirst.Search;
using DbFirst.Tests.Support;
using Npgsql;
using Pgvector;

namespace DbFirst.Tests.Search;

/// <summary>
/// The stored neighbours behind <c>gallery.near_duplicates</c> (migration 80): kept by triggers on every
/// write, queued for bulk loads, and reported when not yet filled in.
/// </summary>
public sealed class NearDuplicatesTests : IAsyncLifetime
{
    private const int Count = 600;

    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private float[][] _vectors = null!;
    private long[] _ids = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _dataSource = _database.CreateDataSource();
        _vectors = SyntheticGallery.GaussianMixture(Count, 512, 12, seed: 11);
        _ids = await SyntheticGallery.LoadAsync(_dataSource, _vectors, 12);
    }

    [Fact]
    public async Task BulkLoad_IsQueued_AndNearDuplicatesSaysHowManyAreNotCovered()
    {
        Assert.Equal(Count, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending"));

        var (_, notices) = await NearDuplicatesWithNoticesAsync(0.01);

        Assert.Contains(notices, n => n.Contains($"{Count} image(s) have no stored neighbours yet", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FillNeighbours_StoresEachImagesTrueNearest_InBoundedBatches()
    {
        var first = await _database.ScalarAsync<int>("SELECT gallery.fill_neighbours(250)");
        await FillAllAsync();

        Assert.Equal(250, first);
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending"));
        Assert.Equal((long)Count, await _database.ScalarAsync<long>("SELECT count(DISTINCT image_id) FROM gallery.image_neighbours"));
        var agree = 0;
        foreach (var row in new[] { 0, 57, 230, 411, 599 })
        {
            var exact = BruteForceNearest(_vectors[row], _ids[row]);
            var stored = await _database.ScalarAsync<float>($"SELECT min(distance) FROM gallery.image_neighbours WHERE image_id = {_ids[row]}");
            Assert.True(stored >= exact.Distance - 1e-4, "a stored distance below the true nearest is impossible");
            agree += Math.Abs(stored - exact.Distance) < 1e-4 ? 1 : 0;
        }

        Assert.True(agree >= 4, $"the index found the true nearest for only {agree} of 5 images");
        var (pairs, notices) = await NearDuplicatesWithNoticesAsync(0.01);
        Assert.Empty(pairs);
        Assert.DoesNotContain(notices, n => n.Contains("no stored neighbours", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WritingACopy_StoresThePairAtOnce_AndDeletingOrChangingItRemovesIt()
    {
        await FillAllAsync();
        var copyId = await InsertAsync("/dups/copy.jpg", Nudge(_vectors[42], 1));

        var (pairs, _) = await NearDuplicatesWithNoticesAsync(0.01);
        Assert.Equal([(Math.Min(_ids[42], copyId), Math.Max(_ids[42], copyId))], pairs.Select(p => (p.IdA, p.IdB)));
        Assert.Equal(copyId, await _database.ScalarAsync<long>($"SELECT neighbour_id FROM gallery.image_neighbours WHERE image_id = {_ids[42]} ORDER BY distance LIMIT 1"));

        await using (var update = _dataSource.CreateCommand("UPDATE gallery.image_embeddings SET embedding = $1 WHERE image_id = $2 AND model_id = (SELECT id FROM gallery.clip_models WHERE state = 'active')"))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = new Vector(_vectors[300]) });
            update.Parameters.Add(new NpgsqlParameter { Value = copyId });
            await update.ExecuteNonQueryAsync();
        }

        (pairs, _) = await NearDuplicatesWithNoticesAsync(0.001);
        Assert.Equal([(Math.Min(_ids[300], copyId), Math.Max(_ids[300], copyId))], pairs.Select(p => (p.IdA, p.IdB)));
        Assert.Equal(0L, await _database.ScalarAsync<long>($"SELECT count(*) FROM gallery.image_neighbours WHERE image_id = {_ids[42]} AND neighbour_id = {copyId}"));

        await _database.ExecuteAsync($"DELETE FROM gallery.image_gallery WHERE id = {copyId}");

        (pairs, _) = await NearDuplicatesWithNoticesAsync(0.01);
        Assert.Empty(pairs);
        Assert.Equal(0L, await _database.ScalarAsync<long>($"SELECT count(*) FROM gallery.image_neighbours WHERE neighbour_id = {copyId}"));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending"));
        var exact = BruteForceNearest(_vectors[300], _ids[300]);
        Assert.Equal(exact.Distance, await _database.ScalarAsync<float>($"SELECT min(distance) FROM gallery.image_neighbours WHERE image_id = {_ids[300]}"), 3);
    }

    [Fact]
    public async Task AGroupOfCopies_YieldsEveryPair()
    {
        await FillAllAsync();
        var a = await InsertAsync("/dups/a.jpg", Nudge(_vectors[7], 2));
        var b = await InsertAsync("/dups/b.jpg", Nudge(_vectors[7], 3));

        var (pairs, _) = await NearDuplicatesWithNoticesAsync(0.01);

        var group = new[] { _ids[7], a, b };
        var expected = group.SelectMany(x => group.Where(y => x < y).Select(y => (x, y))).Order().ToList();
        Assert.Equal(expected, pairs.Select(p => (p.IdA, p.IdB)).Order().ToList());
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    private async Task FillAllAsync()
    {
        while (await _database.ScalarAsync<int>("SELECT gallery.fill_neighbours(500)") > 0)
        {
        }
    }

    private async Task<long> InsertAsync(string path, float[] vector)
    {
        await using var insert = _dataSource.CreateCommand(
            """
            WITH image AS (INSERT INTO gallery.image_gallery (path) VALUES ($1) RETURNING id)
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (SELECT id FROM gallery.clip_models WHERE state = 'active'), image.id, $2 FROM image
            RETURNING image_id
            """);
        insert.Parameters.Add(new NpgsqlParameter { Value = path });
        insert.Parameters.Add(new NpgsqlParameter { Value = new Vector(vector) });
        return (long)(await insert.ExecuteScalarAsync())!;
    }

    private static float[] Nudge(float[] vector, int seed)
    {
        var random = new Random(seed);
        return vector.Select(x => x + (float)((random.NextDouble() - 0.5) * 0.002)).ToArray();
    }

    private (long Id, double Distance) BruteForceNearest(float[] query, long self) =>
        _ids.Zip(_vectors)
            .Where(row => row.First != self)
            .Select(row => (row.First, SyntheticGallery.CosineDistance(query, row.Second)))
            .MinBy(hit => hit.Item2);

    private async Task<(IReadOnlyList<DuplicatePair> Pairs, List<string> Notices)> NearDuplicatesWithNoticesAsync(double maxDistance)
    {
        var notices = new List<string>();
        await using var connection = await _dataSource.OpenConnectionAsync();
        connection.Notice += (_, e) => notices.Add(e.Notice.MessageText);
        await using var command = new NpgsqlCommand("SELECT id_a, id_b, distance FROM gallery.near_duplicates($1::real)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (float)maxDistance });
        var pairs = new List<DuplicatePair>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            pairs.Add(new DuplicatePair(reader.GetInt64(0), "", reader.GetInt64(1), "", reader.GetFloat(2)));
        }

        return (pairs, notices);
    }
}
