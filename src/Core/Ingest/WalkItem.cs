namespace DbFirst.Ingest;

/// <summary>One entry the walk produced: a file still to inspect, or an entry already settled by the walk itself.</summary>
/// <param name="Path">Absolute path as walked.</param>
/// <param name="Length">The file's length from the directory listing; 0 for pipes, sockets and devices.</param>
/// <param name="Settled">Set when there is nothing to inspect (a link not followed, a directory that could not be read).</param>
/// <param name="ViaSymlink">The path is a symbolic link, followed (<c>--follow-symlinks</c>).</param>
internal sealed record WalkItem(string Path, long Length, ScannedEntry? Settled = null, bool ViaSymlink = false);
