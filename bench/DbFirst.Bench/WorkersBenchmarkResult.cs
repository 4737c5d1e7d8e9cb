using System.Globalization;
using DbFirst.Runner.Hosting;

namespace DbFirst.Bench;

/// <summary>The outcome of <see cref="WorkersBenchmark.RunAsync"/>: one row per worker count, and the polling they ran with.</summary>
internal sealed record WorkersBenchmarkResult(
    DateTimeOffset FinishedAt, int Cores, HangfirePolling Polling, int HangfireWorkerCount, int BatchSize, IReadOnlyList<WorkersBenchmarkRow> Rows)
{
    /// <summary>Every worker count embedded each row exactly once.</summary>
    public bool EachRowOnce => Rows.All(r => r.EachRowOnce);

    /// <summary>A Markdown report: settings, then the table.</summary>
    public string ToMarkdown()
    {
        var lines = new List<string>
        {
            $"# Workers benchmark {FinishedAt:yyyy-MM-dd HH:mm:ss}Z",
            "",
            $"{Cores} cores; PostgreSQL on the same machine. Each worker is `dbfirst worker`'s host with a counting image encoder " +
            $"(`Hangfire:WorkerCount` {HangfireWorkerCount}, `Embedding:BatchSize` {BatchSize}); " +
            $"`Hangfire:QueuePollInterval` {Polling.QueuePollInterval:c}, `Hangfire:SchedulePollingInterval` {Polling.SchedulePollingInterval:c}, " +
            $"`Hangfire:LongPolling` {Polling.LongPolling.ToString().ToLowerInvariant()}.",
            "Idle: transactions committed or rolled back in the scratch database (`pg_stat_database`), recurring jobs included, per worker process. " +
            "Claims: one `embed-pending` enqueued per worker process (after a warm-up round of 64 rows per process); pickup is the enqueue to the first claim, " +
            "rows/s from the first claim to the last commit; load is the machine's 1-minute load average then (the machine is shared).",
            "",
            "| workers | idle transactions/s per worker | idle sessions | rows | pickup s | claim s | rows/s | load | embedded | encoded (per process, warm-up included) | each row once |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        };
        lines.AddRange(Rows.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"| {r.Workers} | {r.IdleTransactionsPerWorkerSecond:F2} | {r.IdleSessions} | {r.Rows} | {r.PickupSeconds:F2} | {r.ClaimSeconds:F2} | {r.ClaimsPerSecond:F0} | {r.LoadAverage:F1} | {r.Embedded} | {r.Encoded} ({string.Join(" + ", r.EncodedPerProcess)}) | {(r.EachRowOnce ? "yes" : "**NO**")} |")));
        return string.Join('\n', lines) + "\n";
    }
}
