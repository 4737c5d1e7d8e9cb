using DbFirst.Search;
using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Retrieves images for <c>ask</c> through <see cref="GallerySearch"/>, so filters, iterative scans and the tuned
/// index setting are the same as for <c>dbfirst search</c>; the question is encoded by the registry's active model.
/// Disposes what it is handed to own.
/// </summary>
internal sealed class ClipImageRetriever : IImageRetriever, IDisposable
{
    private readonly GallerySearch _search;
    private readonly ITextEmbedder _embedder;
    private readonly IDisposable[] _owned;

    /// <param name="dataSource">The gallery database.</param>
    /// <param name="embedder">Embeds the question; one that follows the active model (the runner's).</param>
    /// <param name="owned">What this retriever disposes (a command's own model); nothing where a host shares its model.</param>
    public ClipImageRetriever(NpgsqlDataSource dataSource, ITextEmbedder embedder, params IDisposable[] owned)
    {
        _search = new GallerySearch(dataSource);
        _embedder = embedder;
        _owned = owned;
    }

    /// <summary>The same search as <c>dbfirst search</c>: CLIP's text embedding, then the tuned vector index.</summary>
    public async Task<IReadOnlyList<SearchHit>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default)
    {
        var hits = await _search.SearchByTextEmbeddingAsync(_embedder.EmbedWithModel(question), k, cancellationToken: cancellationToken);
        return hits.Select(hit => new SearchHit(hit.Id, hit.Path, hit.Distance)).ToList();
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
