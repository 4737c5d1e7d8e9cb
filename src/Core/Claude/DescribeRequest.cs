namespace DbFirst.Claude;

/// <summary>Which images a describe run considers and how far it may go.</summary>
/// <param name="Ids">Images named explicitly; with none and <paramref name="All"/> false, the images marked by <c>gallery.request_description</c>.</param>
/// <param name="All">Every image that needs a description.</param>
/// <param name="Force">Describe again even when a description by the current model exists.</param>
/// <param name="MaxImages">Stop after this many images (the job's per-run cap).</param>
/// <param name="MaxTokens">Start no new image once this many tokens (input + output) are spent.</param>
/// <param name="MaxFailedAttempts">Skip images whose earlier runs failed this often, unless named in <paramref name="Ids"/>.</param>
internal sealed record DescribeRequest(
    IReadOnlyList<long> Ids,
    bool All = false,
    bool Force = false,
    int? MaxImages = null,
    long? MaxTokens = null,
    int? MaxFailedAttempts = null);
