namespace DbFirst.Search;

/// <summary>Two images whose embeddings are within the near-duplicate distance of each other.</summary>
/// <param name="IdA">The smaller image id.</param>
/// <param name="PathA">Its path.</param>
/// <param name="IdB">The larger image id.</param>
/// <param name="PathB">Its path.</param>
/// <param name="Distance">Cosine distance between them.</param>
public sealed record DuplicatePair(long IdA, string PathA, long IdB, string PathB, double Distance);
