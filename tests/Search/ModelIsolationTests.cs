using DbFirst.Indexing;
using DbFirst.Tests.Support;
using Npgsql;
using Pgvector;

namespace DbFirst.Tests.Search;

/// <summary>
/// Two models of different dimensions side by side (512-d active, 384-d staged, vectors written directly): every
/// search function answers from the active model's embeddings only, and from the other model's once it is active.
/// </summary>
public sealed class ModelIsolationTests : IAsyncLifetime
{
    // Images 1-30 have an embedding of model a (512-d), 21-50 of model b (384-d); 49 and 50 are identical under b.
    private TestDatabase _database = null!;
    private long[] _ids = [];
    private float[][] _a = [];
    private float[][] _b = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _ids = new long[50];
        _a = SyntheticGallery.GaussianMixture(30, 512, 3, seed: 21);
        _b = SyntheticGallery.GaussianMixture(30, 384, 3, seed: 22);
        _b[29] = _b[28];
        await _database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) SELECT '/iso/' || lpad(i::text, 2, '0') || '.jpg' FROM generate_series(1, 50) i");
        await TestEmbeddings.RegisterActiveAsync(_database, "a", 512);
        await TestEmbeddings.StageAsync(_database, "b", 384);
        await using var dataSource = _database.CreateDataSource();
        await using (var ids = dataSource.CreateCommand("SELECT id FROM gallery.image_gallery ORDER BY path"))
        await using (var reader = await ids.ExecuteReaderAsync())
        {
            for (var i = 0; await reader.ReadAsync(); i++)
            {
                _ids[i] = reader.GetInt64(0);
            }
        }

        await WriteAsync(dataSource, "a", _ids[..30], _a);
        await WriteAsync(dataSource, "b", _ids[20..], _b);
        await _database.ExecuteAsync("SELECT gallery.fill_neighbours(1000)");
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task EverySearch_ReturnsTheActiveModelsRowsOnly()
    {
        var onlyA = string.Join(',', _ids[..30]);

        Assert.Equal(30L, await CountAsync($"SELECT count(*) FROM gallery.search_by_embedding({Literal(_a[0])}, 50) WHERE id IN ({onlyA})"));
        Assert.Equal(30L, await CountAsync($"SELECT count(*) FROM gallery.search_by_embedding({Literal(_a[0])}, 50, '/iso')"));
        Assert.Equal(29L, await CountAsync($"SELECT count(*) FROM gallery.similar_images({_ids[5]}, 50) WHERE id IN ({onlyA})"));
        Assert.Equal(0L, await CountAsync($"SELECT count(*) FROM gallery.near_duplicates(0.01, 10)"));
        var wrongDimension = await Assert.ThrowsAsync<PostgresException>(() => CountAsync($"SELECT count(*) FROM gallery.search_by_embedding({Literal(_b[0])}, 5)"));
        Assert.Contains("has 384 dimensions, but the active model's embeddings have 512", wrongDimension.MessageText);
        var bOnly = await Assert.ThrowsAsync<PostgresException>(() => CountAsync($"SELECT count(*) FROM gallery.similar_images({_ids[45]}, 5)"));
        Assert.Contains("has no embedding yet", bOnly.MessageText);
    }

    [Fact]
    public async Task AfterTheSwitch_EverySearchReturnsTheOtherModelsRowsOnly()
    {
        await _database.ExecuteAsync(
            """
            UPDATE gallery.clip_models SET state = 'retired', retired_at = now() WHERE state = 'active';
            UPDATE gallery.clip_models SET state = 'active', activated_at = now() WHERE name = 'b';
            """);
        var onlyB = string.Join(',', _ids[20..]);

        Assert.Equal(30L, await CountAsync($"SELECT count(*) FROM gallery.search_by_embedding({Literal(_b[0])}, 50) WHERE id IN ({onlyB})"));
        Assert.Equal(29L, await CountAsync($"SELECT count(*) FROM gallery.similar_images({_ids[25]}, 50) WHERE id IN ({onlyB})"));
        Assert.Equal($"{_ids[48]}-{_ids[49]}", await _database.ScalarAsync<string>("SELECT string_agg(id_a || '-' || id_b, ',') FROM gallery.near_duplicates(0.01, 10)"));
        var aOnly = await Assert.ThrowsAsync<PostgresException>(() => CountAsync($"SELECT count(*) FROM gallery.similar_images({_ids[2]}, 5)"));
        Assert.Contains("has no embedding yet", aOnly.MessageText);
    }

    [Fact]
    public async Task PendingCounts_AreExactPerModel_ThroughInsertsContentChangesAndDeletes()
    {
        Assert.Equal("a:30:20,b:30:20", await CoverageAsync());

        await _database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) VALUES ('/iso/new.jpg')");
        Assert.Equal("a:30:21,b:30:21", await CoverageAsync());

        await _database.ExecuteAsync($"UPDATE gallery.image_gallery SET content_sha256 = '\\x01' WHERE id = {_ids[25]}");
        Assert.Equal("a:29:22,b:29:22", await CoverageAsync());

        await _database.ExecuteAsync($"DELETE FROM gallery.image_gallery WHERE id IN ({_ids[0]}, {_ids[45]})");
        Assert.Equal("a:28:21,b:28:21", await CoverageAsync());
        Assert.Equal(0L, await CountAsync(
            "SELECT count(*) FROM gallery.embedding_pending p JOIN gallery.image_embeddings e ON e.model_id = p.model_id AND e.image_id = p.image_id"));
    }

    private Task<string?> CoverageAsync() => _database.ScalarAsync<string>(
        """
        SELECT string_agg(c.name || ':' || c.embedded || ':' || (SELECT count(*) FROM gallery.embedding_pending p WHERE p.model_id = c.model_id), ',' ORDER BY c.name)
        FROM gallery.model_coverage() c
        """);

    private Task<long> CountAsync(string sql) => _database.ScalarAsync<long>(sql);

    private static string Literal(float[] vector) =>
        "'[" + string.Join(',', vector.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]'::vector";

    private static async Task WriteAsync(NpgsqlDataSource dataSource, string model, long[] ids, float[][] vectors)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (SELECT id FROM gallery.clip_models WHERE name = $1), u.id, u.embedding
            FROM unnest($2::bigint[], $3::vector[]) AS u(id, embedding)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = model });
        command.Parameters.Add(new NpgsqlParameter { Value = ids });
        command.Parameters.Add(new NpgsqlParameter { Value = vectors.Select(v => new Vector(v)).ToArray() });
        await command.ExecuteNonQueryAsync();
    }
}
