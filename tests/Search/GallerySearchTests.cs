using DbFirst.Search;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Search;

/// <summary>
/// <see cref="GallerySearch.SearchByTextEmbeddingAsync"/>'s active-model check, on a real server: a text vector of
/// another model is refused in one line naming both; an embedder that read the active model itself hands it back with
/// the vector, and the check uses that reading instead of a second one.
/// </summary>
public sealed class GallerySearchTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private Npgsql.NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await _database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path) SELECT '/photos/' || i || '.jpg' FROM generate_series(1, 5) AS i;
            SELECT gallery.ensure_active_model('model-a', 3);
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (gallery.active_model()).id, g.id, ARRAY[1, g.id, 0]::real[]::vector FROM gallery.image_gallery g;
            """);
        _dataSource = _database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task SearchByTextEmbedding_VectorOfAnotherModel_RefusesNamingBoth()
    {
        var refusal = await Assert.ThrowsAsync<GalleryException>(() =>
            new GallerySearch(_dataSource).SearchByTextEmbeddingAsync(new TextEmbedding("model-b", [1, 0, 0]), 3));

        Assert.StartsWith("the gallery's active model is model-a, but this process encodes text with model-b", refusal.Message);
    }

    [Fact]
    public async Task SearchByTextEmbedding_EmbedderReadTheActiveModel_ChecksThatReadingNotASecondOne()
    {
        // The registry says model-a; the embedder says it read model-z: only the embedder's reading can name model-z.
        var refusal = await Assert.ThrowsAsync<GalleryException>(() =>
            new GallerySearch(_dataSource).SearchByTextEmbeddingAsync(new TextEmbedding("model-a", [1, 0, 0]) { ActiveModel = "model-z" }, 3));

        Assert.StartsWith("the gallery's active model is model-z, but this process encodes text with model-a", refusal.Message);
    }

    [Fact]
    public async Task SearchByTextEmbedding_EmbedderReadTheSameModel_Searches()
    {
        var hits = await new GallerySearch(_dataSource).SearchByTextEmbeddingAsync(new TextEmbedding("model-a", [1, 1, 0]) { ActiveModel = "model-a" }, 2);

        Assert.Equal(["/photos/1.jpg", "/photos/2.jpg"], hits.Select(hit => hit.Path));
    }
}
