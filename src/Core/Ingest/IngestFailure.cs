namespace DbFirst.Ingest;

/// <summary>A file or folder ingest could not read, and why.</summary>
public sealed record IngestFailure(string Path, string Error);
