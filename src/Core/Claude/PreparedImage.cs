namespace DbFirst.Claude;

/// <summary>An image ready for a Claude image block: JPEG bytes, upright, within the API's size limits.</summary>
/// <param name="Jpeg">The encoded bytes; <see cref="MediaType"/> always matches them.</param>
/// <param name="Width">Width after orientation and resizing.</param>
/// <param name="Height">Height after orientation and resizing.</param>
/// <param name="Quality">The JPEG quality that fitted the size limit.</param>
internal sealed record PreparedImage(byte[] Jpeg, int Width, int Height, int Quality)
{
    public const string MediaType = "image/jpeg";

    /// <summary>The block's data as the API counts it against its 5 MB limit.</summary>
    public string ToBase64() => Convert.ToBase64String(Jpeg);

    public long Base64Length => 4L * ((Jpeg.LongLength + 2) / 3);
}
