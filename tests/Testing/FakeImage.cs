namespace DbFirst.Testing;

/// <summary>An image block as the fake decoded it.</summary>
/// <param name="MediaType">The declared <c>media_type</c>.</param>
/// <param name="DetectedFormat">What the bytes are, per SkiaSharp (<c>Jpeg</c>, <c>Png</c>…), or <see langword="null"/> when undecodable.</param>
/// <param name="Width">Decoded width.</param>
/// <param name="Height">Decoded height.</param>
/// <param name="Base64Length">Length of the base64 text, which the API's 5 MB limit counts.</param>
internal sealed record FakeImage(string? MediaType, string? DetectedFormat, int Width, int Height, long Base64Length);
