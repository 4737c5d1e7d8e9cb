using DbFirst.Search;

namespace DbFirst.Claude;

/// <summary>Finds the gallery images nearest to a question (CLIP text embedding, then a vector search).</summary>
internal interface IImageRetriever
{
    /// <summary>Returns at most <paramref name="k"/> images, nearest first.</summary>
    Task<IReadOnlyList<SearchHit>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default);
}
