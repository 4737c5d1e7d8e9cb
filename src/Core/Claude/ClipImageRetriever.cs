using DbFirst.Clip;
using DbFirst.Search;
using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Retrieves images for <c>ask</c> through <see cref="GallerySearch"/>, so filters, iterative scans and the tuned
/// index setting are the same as for <c>dbfirst search</c>. Disposes the model only when it owns it.
/// </summary>
internal sealed class ClipImageRetriever : IImageRetriever, IDisposable
{
    private readonly GallerySearch _search;
    private readonly ClipModel _model;
    private readonly bool _ownsModel;

    /// <param name="dataSource">The gallery database.</param>
    /// <param name="model">The CLIP model whose text encoder embeds the question.</param>
    /// <param name="ownsModel">False where a host shares its one loaded model between services.</param>
    public ClipImageRetriever(NpgsqlDataSource dataSource, ClipModel model, bool ownsModel = true)
    {
        _search = new GallerySearch(dataSource);
        _model = model;
        _ownsModel = ownsModel;
    }

    /// <summary>The same search as <c>dbfirst search</c>: CLIP's text embedding, then the tuned vector index.</summary>
    public async Task<IReadOnlyList<SearchHit>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default)
    {
        var hits = await _search.SearchByEmbeddingAsync(_model.TextEncoder.Encode(question), k, cancellationToken: cancellationToken);
        return hits.Select(hit => new SearchHit(hit.Id, hit.Path, hit.Distance)).ToList();
    }

    public void Dispose()
    {
        if (_ownsModel)
        {
            _model.Dispose();
        }
    }
}
