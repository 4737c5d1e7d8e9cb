namespace DbFirst.Claude;

/// <summary>What one <c>dbfirst describe --collect</c> found and stored.</summary>
/// <param name="Collected">Batches whose results were stored in this run.</param>
/// <param name="Pending">Batches still processing, with the API's status; nothing of theirs was stored.</param>
/// <param name="Described">Images that got a description.</param>
/// <param name="Failed">Images whose request errored, expired, was canceled or answered no usable text.</param>
/// <param name="InputTokens">Input tokens billed for the stored results.</param>
/// <param name="OutputTokens">Output tokens billed for the stored results.</param>
/// <param name="Dropped">Results dropped because their image changed after it was sent; those images stay pending.</param>
internal sealed record DescribeBatchCollection(
    IReadOnlyList<string> Collected,
    IReadOnlyList<(string BatchId, string Status)> Pending,
    int Described,
    int Failed,
    long InputTokens,
    long OutputTokens,
    int Dropped = 0);
