namespace DbFirst.Search;

/// <summary>One search result.</summary>
/// <param name="Id">The image's <c>gallery.image_gallery.id</c>.</param>
/// <param name="Path">The image file's path.</param>
/// <param name="Distance">Cosine distance to the query (0 identical, 2 opposite).</param>
public sealed record SearchHit(long Id, string Path, double Distance);
