namespace DbFirst.Indexing;

/// <summary>One of a query's exact nearest rows: its id and its cosine distance as pgvector computes it.</summary>
/// <param name="Id">The row's id (an image id, or whatever the scanned query returns first).</param>
/// <param name="Distance">Cosine distance, <c>embedding &lt;=&gt; query</c>.</param>
internal readonly record struct ExactNeighbour(long Id, float Distance);
