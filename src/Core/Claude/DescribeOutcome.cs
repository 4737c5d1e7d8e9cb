namespace DbFirst.Claude;

/// <summary>What happened to one image in a describe run.</summary>
/// <param name="Id">The image's id.</param>
/// <param name="Path">Its file.</param>
/// <param name="Status"><c>described</c>, <c>skipped</c> (already described by this model), <c>failed</c>, or <c>dropped</c>
/// (Claude answered, but the image's content changed meanwhile: nothing stored, the image stays pending).</param>
/// <param name="Description">The new description, when described.</param>
/// <param name="Error">Why it failed, as stored in <c>describe_error</c>, or why it was dropped.</param>
/// <param name="InputTokens">Input tokens billed for it in this run.</param>
/// <param name="OutputTokens">Output tokens billed for it in this run.</param>
/// <param name="Calls">Calls to Claude made for it in this run.</param>
internal sealed record DescribeOutcome(
    long Id,
    string Path,
    string Status,
    string? Description = null,
    string? Error = null,
    long InputTokens = 0,
    long OutputTokens = 0,
    int Calls = 0)
{
    public const string Described = "described";
    public const string Skipped = "skipped";
    public const string Failed = "failed";
    public const string Dropped = "dropped";
}
