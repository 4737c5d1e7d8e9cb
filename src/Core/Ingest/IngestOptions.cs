namespace DbFirst.Ingest;

/// <summary>What to ingest and how.</summary>
/// <param name="Roots">Folders (or single files) to walk.</param>
/// <param name="FollowSymlinks">Follow links to files and folders; each folder is still entered once.</param>
/// <param name="Prune">Delete the rows of files under the roots that are gone from disk.</param>
/// <param name="ChunkSize">Rows per COPY and upsert; bounds memory however large the gallery is.</param>
/// <param name="Parallelism">Files inspected at once; defaults to the number of processors.</param>
/// <param name="Force">Prune even what the safety checks refuse (a root with no files, on another filesystem, or losing too many rows).</param>
/// <param name="DryRun">With <paramref name="Prune"/>: list what would be deleted, delete nothing.</param>
/// <param name="PruneMaxFraction">Largest share of a root's rows one prune may delete without <paramref name="Force"/> (a single row always may).</param>
public sealed record IngestOptions(
    IReadOnlyList<string> Roots,
    bool FollowSymlinks = false,
    bool Prune = false,
    int ChunkSize = 5000,
    int? Parallelism = null,
    bool Force = false,
    bool DryRun = false,
    double PruneMaxFraction = 0.1);
