namespace DbFirst.Indexing;

/// <summary>One setting tried by the tuner, measured on the tuning set.</summary>
/// <param name="Value">The value of <see cref="TuneReport.Setting"/>.</param>
/// <param name="Recall">Mean recall@k over the queries.</param>
/// <param name="P50Ms">Median latency of one search, in milliseconds, through the search function.</param>
/// <param name="P95Ms">95th percentile latency.</param>
public sealed record TuneStep(int Value, double Recall, double P50Ms, double P95Ms);
