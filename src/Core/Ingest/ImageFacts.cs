namespace DbFirst.Ingest;

/// <summary>What ingest records about an image file: content hash, size, header dimensions, media type, capture time.</summary>
/// <param name="Sha256">SHA-256 of the file's bytes.</param>
/// <param name="ByteSize">Bytes hashed (the file's size when it was read).</param>
/// <param name="Width">Width as displayed, i.e. after the EXIF orientation (a portrait photo stored sideways is taller than wide).</param>
/// <param name="Height">Height as displayed.</param>
/// <param name="MediaType">From the file's magic number, e.g. <c>image/jpeg</c>.</param>
/// <param name="TakenAt">EXIF capture time in UTC; a time without an EXIF offset is taken as UTC.</param>
internal sealed record ImageFacts(byte[] Sha256, long ByteSize, int Width, int Height, string MediaType, DateTime? TakenAt);
