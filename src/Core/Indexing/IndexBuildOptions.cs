namespace DbFirst.Indexing;

/// <summary>What <c>dbfirst index rebuild</c> builds.</summary>
/// <param name="Method"><c>hnsw</c> or <c>ivfflat</c>.</param>
/// <param name="Lists">IVFFlat lists; <see langword="null"/> picks <see cref="IvfflatLists.ForRows"/>.</param>
/// <param name="M">HNSW connections per node; <see langword="null"/> keeps pgvector's 16.</param>
/// <param name="EfConstruction">HNSW build candidate list; <see langword="null"/> keeps pgvector's 64.</param>
public sealed record IndexBuildOptions(string Method = VectorIndexManager.Hnsw, int? Lists = null, int? M = null, int? EfConstruction = null);
