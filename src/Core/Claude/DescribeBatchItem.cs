namespace DbFirst.Claude;

/// <summary>One request of a Message Batch, as <c>gallery.describe_batch_items</c> records it.</summary>
/// <param name="CustomId">The id the request was sent under; results come back under it.</param>
/// <param name="ImageId">The image it describes.</param>
/// <param name="ContentSha256">The image's content hash as sent: its result is stored only while the row still has it.</param>
internal sealed record DescribeBatchItem(string CustomId, long ImageId, byte[]? ContentSha256);
