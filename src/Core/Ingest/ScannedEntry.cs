namespace DbFirst.Ingest;

/// <summary>The verdict on one path met by the walk.</summary>
/// <param name="Path">Absolute path as walked (through links when they are followed).</param>
/// <param name="Outcome">What became of it.</param>
/// <param name="Facts">For <see cref="ScanOutcome.Image"/>: what is registered.</param>
/// <param name="Error">For <see cref="ScanOutcome.Failed"/>: why, in a line.</param>
/// <param name="IsDirectory">
/// The entry stands for a directory whose contents were not read (unreadable, or a link not followed):
/// rows under it are not reported missing, since nobody looked.
/// </param>
/// <param name="ViaSymlink">The path is a followed symbolic link: readers accept a link there later.</param>
internal sealed record ScannedEntry(string Path, ScanOutcome Outcome, ImageFacts? Facts = null, string? Error = null, bool IsDirectory = false, bool ViaSymlink = false);
