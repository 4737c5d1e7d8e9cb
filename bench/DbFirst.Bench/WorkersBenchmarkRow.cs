namespace DbFirst.Bench;

/// <summary>One worker count's figures in <c>bench workers</c>.</summary>
/// <param name="Workers">Worker processes on the database.</param>
/// <param name="IdleSeconds">Length of the idle window.</param>
/// <param name="IdleTransactions">Transactions the database committed or rolled back in that window (<c>pg_stat_database</c>).</param>
/// <param name="IdleSessions">Sessions the workers held at the end of the window.</param>
/// <param name="Rows">Rows queued for the claim phase.</param>
/// <param name="PickupSeconds">From the enqueue of <c>embed-pending</c> to the first claim.</param>
/// <param name="ClaimSeconds">From the first claim to the last row committed.</param>
/// <param name="Embedded">Rows with an embedding afterwards (each row has at most one per model).</param>
/// <param name="Encoded">Rows the processes' encoders encoded in the claim phase, summed: more than <paramref name="Rows"/> means a row was claimed twice.</param>
/// <param name="EncodedPerProcess">Rows each process encoded, its warm-up round included.</param>
/// <param name="FailedAttempts">Rows with a recorded failed attempt afterwards.</param>
/// <param name="LoadAverage">The machine's 1-minute load average when the rows were done (NaN where unknown).</param>
internal sealed record WorkersBenchmarkRow(
    int Workers, double IdleSeconds, long IdleTransactions, int IdleSessions,
    int Rows, double PickupSeconds, double ClaimSeconds, long Embedded, long Encoded, IReadOnlyList<int> EncodedPerProcess, long FailedAttempts, double LoadAverage)
{
    /// <summary>Rows claimed and committed per second, over all processes.</summary>
    public double ClaimsPerSecond => Rows / ClaimSeconds;

    /// <summary>The database's transactions per second per idle worker process, Hangfire's polling and the recurring jobs included.</summary>
    public double IdleTransactionsPerWorkerSecond => IdleTransactions / IdleSeconds / Workers;

    /// <summary>Every queued row embedded, and encoded exactly once over all processes, none failed.</summary>
    public bool EachRowOnce => Embedded == Rows && Encoded == Rows && FailedAttempts == 0;
}
