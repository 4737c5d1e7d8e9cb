namespace DbFirst.Embedding;

/// <summary>A row claimed for embedding.</summary>
/// <param name="Id">The row's id.</param>
/// <param name="Path">The image file.</param>
internal sealed record ClaimedRow(long Id, string Path);
