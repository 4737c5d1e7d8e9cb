using System.Diagnostics;
using System.Globalization;

namespace DbFirst.Bench;

/// <summary>
/// The product's <c>dbfirst</c> binary (copied beside the benchmarks, which reference it) run as a child process, as an
/// operator runs it, with its peak resident memory sampled from <c>/proc</c> while it runs.
/// </summary>
internal sealed class RunnerProcess
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(200);

    /// <summary>The runner beside this program.</summary>
    public static string RunnerDll => Path.Combine(AppContext.BaseDirectory, "dbfirst.dll");

    /// <summary>What one run printed, its exit code, wall time and peak RSS (VmHWM; 0 where /proc is not readable).</summary>
    public sealed record Outcome(int ExitCode, string Out, string Error, TimeSpan Elapsed, long PeakRssBytes);

    /// <summary>
    /// Runs <c>dbfirst</c> with <paramref name="args"/> against <paramref name="connectionString"/> (as both the runtime
    /// and the owner login) and waits for it, at most <paramref name="timeout"/>; a run past it is killed and reported.
    /// </summary>
    /// <exception cref="GalleryException">The runner is missing beside this program, or the run outlasted its timeout.</exception>
    public static async Task<Outcome> RunAsync(string connectionString, TimeSpan timeout, IReadOnlyList<string> args, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(RunnerDll))
        {
            throw new GalleryException($"the runner is not beside the benchmarks: {RunnerDll} (build bench/DbFirst.Bench)");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RunnerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ConnectionStrings__Gallery"] = connectionString;
        start.Environment["ConnectionStrings__GalleryOwner"] = connectionString;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new GalleryException("dotnet did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var exited = process.WaitForExitAsync(limit.Token);
        long peak = 0;
        try
        {
            do
            {
                // VmHWM only grows, so the last sample read before the exit is the run's peak.
                peak = Math.Max(peak, ReadPeakRss(process.Id));
            }
            while (await Task.WhenAny(exited, Task.Delay(SampleEvery, limit.Token)) != exited);

            await exited;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new GalleryException($"dbfirst {string.Join(' ', args.Take(2))} did not finish within {timeout.TotalMinutes:F0} min; killed");
        }

        return new Outcome(process.ExitCode, await stdout, await stderr, clock.Elapsed, peak);
    }

    private static long ReadPeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                // "VmHWM:    123456 kB"
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // The process may exit between HasExited and the read; the earlier samples stand.
        }

        return 0;
    }
}
