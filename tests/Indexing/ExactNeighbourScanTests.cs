using DbFirst.Indexing;
using DbFirst.Tests.Support;
using Pgvector;

namespace DbFirst.Tests.Indexing;

/// <summary>
/// The one-pass exact k-NN that <c>index tune</c> and <c>bench search</c> take their ground truth from: the same
/// rows and distances as pgvector's own <c>ORDER BY embedding &lt;=&gt; q LIMIT k</c> by sequential scan.
/// </summary>
public sealed class ExactNeighbourScanTests
{
    private const string RowsSql = "SELECT image_id, embedding FROM gallery.image_embeddings WHERE model_id = $1";

    [Fact]
    public async Task ManyQueries_OnePass_MatchPgvectorsSequentialScan()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        // More rows than one batch, so batches overlap and the last one is partial.
        await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(5000, 64, 40, seed: 11), 40, buildIndexes: false);
        var modelId = await database.ScalarAsync<int>("SELECT id FROM gallery.clip_models WHERE state = 'active'");
        var queries = SyntheticGallery.GaussianMixture(30, 64, 40, seed: 12);
        await using var connection = await dataSource.OpenConnectionAsync();

        var found = await ExactNeighbourScan.FindAsync(connection, RowsSql, [modelId], queries, 10);

        for (var q = 0; q < queries.Length; q++)
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT image_id, (embedding <=> $1)::real FROM gallery.image_embeddings WHERE model_id = $2 ORDER BY embedding <=> $1, image_id LIMIT 10", connection)
            {
                Parameters = { new() { Value = new Vector(queries[q]) }, new() { Value = modelId } },
            };
            var expected = new List<ExactNeighbour>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    expected.Add(new ExactNeighbour(reader.GetInt64(0), reader.GetFloat(1)));
                }
            }

            Assert.Equal(10, found[q].Length);
            Assert.Equal(expected.Select(n => n.Id), found[q].Select(n => n.Id));
            Assert.All(expected.Zip(found[q]), pair => Assert.InRange(pair.Second.Distance - pair.First.Distance, -1e-6f, 1e-6f));
        }
    }

    [Fact]
    public async Task ExcludedRow_IsLeftOut_AndFewerRowsThanK_ReturnsAll()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var vectors = SyntheticGallery.GaussianMixture(7, 16, 2, seed: 5);
        var ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 2, buildIndexes: false);
        var modelId = await database.ScalarAsync<int>("SELECT id FROM gallery.clip_models WHERE state = 'active'");
        await using var connection = await dataSource.OpenConnectionAsync();

        var found = await ExactNeighbourScan.FindAsync(connection, RowsSql, [modelId], [vectors[3], vectors[3]], 10, [ids[3], null]);

        Assert.Equal(6, found[0].Length);
        Assert.DoesNotContain(ids[3], found[0].Select(n => n.Id));
        Assert.Equal(7, found[1].Length);
        Assert.Equal(ids[3], found[1][0].Id);
        Assert.InRange(found[1][0].Distance, -1e-6f, 1e-6f);
        Assert.True(found[0].Zip(found[0].Skip(1)).All(pair => pair.First.Distance <= pair.Second.Distance), "nearest first");
    }
}
