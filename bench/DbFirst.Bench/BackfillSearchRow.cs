namespace DbFirst.Bench;

/// <summary>One kind of search in <c>dbfirst bench backfill</c>: how many ran and their latency before and during the backfill.</summary>
internal sealed record BackfillSearchRow(string Search, int BeforeCount, double BeforeP50Ms, double BeforeP95Ms, int DuringCount, double DuringP50Ms, double DuringP95Ms);
