namespace DbFirst.Indexing;

/// <summary>The outcome of <c>dbfirst index tune</c>.</summary>
/// <param name="Method">The index type tuned.</param>
/// <param name="Setting"><c>hnsw.ef_search</c> or <c>ivfflat.probes</c>.</param>
/// <param name="Steps">Every setting tried, smallest first, measured on the tuning set.</param>
/// <param name="Chosen">The smallest setting that reached the target on both the tuning and the held-out set (the largest tried if none did).</param>
/// <param name="ReachedTarget">Whether <see cref="Chosen"/> reached the target on both sets.</param>
/// <param name="HeldOut">The chosen setting measured again on the held-out queries, which took no part in choosing it.</param>
/// <param name="HeldOutMargin">Half-width of the 95% confidence interval of the held-out recall.</param>
/// <param name="ExactP50Ms">Median latency of the exact (sequential scan) search, for comparison.</param>
/// <param name="Stored">Whether the setting was written to <c>gallery.settings</c>.</param>
public sealed record TuneReport(string Method, string Setting, IReadOnlyList<TuneStep> Steps, TuneStep Chosen, bool ReachedTarget, TuneStep HeldOut, double HeldOutMargin, double ExactP50Ms, bool Stored);
