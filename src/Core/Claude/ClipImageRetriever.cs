using DbFirst.Clip;
using Npgsql;
using Pgvector;

namespace DbFirst.Claude;

/// <summary>
/// Retrieves images for <c>ask</c>: the question's CLIP text embedding, then the nearest images embedded by the same
/// model (cosine distance, served by the HNSW index). Owns and disposes the model.
/// </summary>
/// <remarks>
/// A stand-in for <c>GallerySearch.SearchByEmbeddingAsync</c> (issue 5), which is not merged yet; once it is, this
/// should call it so filters and tuning live in one place.
/// </remarks>
internal sealed class ClipImageRetriever : IImageRetriever, IDisposable
{
    private const string NearestSql = """
        SELECT id, path, embedding <=> @query AS distance
        FROM gallery.image_gallery
        WHERE embedding IS NOT NULL AND embedding_model = @model
        ORDER BY embedding <=> @query
        LIMIT @k
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClipModel _model;

    public ClipImageRetriever(NpgsqlDataSource dataSource, ClipModel model)
    {
        _dataSource = dataSource;
        _model = model;
    }

    public async Task<IReadOnlyList<RetrievedImage>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default)
    {
        var query = new Vector(_model.TextEncoder.Encode(question));
        await using var command = _dataSource.CreateCommand(NearestSql);
        command.Parameters.AddWithValue("query", query);
        command.Parameters.AddWithValue("model", _model.Name);
        command.Parameters.AddWithValue("k", k);
        var images = new List<RetrievedImage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            images.Add(new RetrievedImage(reader.GetInt64(0), reader.GetString(1), reader.GetDouble(2)));
        }

        return images;
    }

    public void Dispose() => _model.Dispose();
}
