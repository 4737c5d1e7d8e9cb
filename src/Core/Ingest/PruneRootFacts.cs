namespace DbFirst.Ingest;

/// <summary>What prune knows about one root before it deletes anything under it.</summary>
/// <param name="Root">The root, as normalised.</param>
/// <param name="Rows">Rows under it in the gallery.</param>
/// <param name="SeenFiles">Files this walk met under it (images or not).</param>
/// <param name="Missing">Rows under it whose file is gone.</param>
/// <param name="RecordedDevice">The filesystem it was on at its last ingest with files; null when never recorded.</param>
/// <param name="Device">The filesystem it is on now; null when it could not be examined.</param>
/// <param name="DeviceError">Why <paramref name="Device"/> is null.</param>
internal sealed record PruneRootFacts(string Root, long Rows, long SeenFiles, long Missing, ulong? RecordedDevice, ulong? Device, string? DeviceError);
