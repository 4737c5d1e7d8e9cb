namespace DbFirst.Files;

/// <summary>A file as ingest recorded it: what a later read must find again.</summary>
/// <param name="Path">Absolute path.</param>
/// <param name="ByteSize">Length at ingest; null when unknown (the check is skipped).</param>
/// <param name="Sha256">Content hash at ingest; null when unknown (the check is skipped).</param>
/// <param name="ViaSymlink">Ingest met the path as a symbolic link (<c>--follow-symlinks</c>), so a link there is expected.</param>
internal sealed record IngestedFile(string Path, long? ByteSize = null, byte[]? Sha256 = null, bool ViaSymlink = false);
