namespace DbFirst.Claude;

/// <summary>An image a search returned for a question, nearest first.</summary>
/// <param name="Id">The image's id in <c>gallery.image_gallery</c>.</param>
/// <param name="Path">Its file.</param>
/// <param name="Distance">Cosine distance between the question's and the image's embeddings.</param>
internal sealed record RetrievedImage(long Id, string Path, double Distance);
