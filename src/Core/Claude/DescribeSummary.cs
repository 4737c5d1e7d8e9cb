namespace DbFirst.Claude;

/// <summary>The result of a describe run.</summary>
/// <param name="Outcomes">One entry per image considered, in completion order.</param>
/// <param name="Calls">HTTP calls made to Claude, retries included.</param>
/// <param name="StoppedBy">Why the run stopped early (token cap), or <see langword="null"/>.</param>
/// <param name="NotFound">Requested ids that are not in the gallery.</param>
internal sealed record DescribeSummary(IReadOnlyList<DescribeOutcome> Outcomes, long Calls, string? StoppedBy, IReadOnlyList<long> NotFound)
{
    public int Described => Outcomes.Count(o => o.Status == DescribeOutcome.Described);

    public int Skipped => Outcomes.Count(o => o.Status == DescribeOutcome.Skipped);

    public int Failed => Outcomes.Count(o => o.Status == DescribeOutcome.Failed);

    /// <summary>Answers dropped because the image changed while it was being described; those images stay pending.</summary>
    public int Dropped => Outcomes.Count(o => o.Status == DescribeOutcome.Dropped);

    public long InputTokens => Outcomes.Sum(o => o.InputTokens);

    public long OutputTokens => Outcomes.Sum(o => o.OutputTokens);
}
