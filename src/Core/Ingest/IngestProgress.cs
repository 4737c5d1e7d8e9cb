namespace DbFirst.Ingest;

/// <summary>Running totals while an ingest walks; the total is unknown until the walk ends.</summary>
/// <param name="Scanned">Files met so far.</param>
/// <param name="Images">Of which images.</param>
/// <param name="Failed">Files and folders that could not be read.</param>
/// <param name="Bytes">Bytes hashed.</param>
public readonly record struct IngestProgress(long Scanned, long Images, long Failed, long Bytes);
