using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DbFirst.Runner.Hosting;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench workers</c>: 1, 2 and 4 worker processes on one scratch database with a counting encoder: idle
/// transactions per second per worker (Hangfire's polling included), rows claimed per second, and that each row is
/// embedded exactly once.
/// </summary>
internal static class BenchWorkersCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var rows = new Option<int>("--rows") { Description = "Rows queued for each worker count", DefaultValueFactory = _ => 20_000 };
        var workers = new Option<string>("--workers") { Description = "Worker process counts, comma-separated", DefaultValueFactory = _ => "1,2,4" };
        var idle = new Option<int>("--idle-seconds") { Description = "Length of each idle window", DefaultValueFactory = _ => 60 };
        var output = new Option<string?>("--out") { Description = "Result file (.json or .md; default bench-results/workers-<timestamp>.md)" };
        var command = new Command("workers", "Many workers on one database: idle load, claim rate, each row once (scratch database, counting encoder)")
        {
            rows, workers, idle, output,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var count = parse.GetValue(rows);
            var idleSeconds = parse.GetValue(idle);
            var counts = ParseCounts(parse.GetValue(workers) ?? "");
            if (count < 1 || idleSeconds < 1)
            {
                throw new GalleryException("--rows and --idle-seconds must be at least 1");
            }

            // The workers read the same keys; reading them here first stops a bad value before anything starts.
            var settings = GalleryHostSettings.Read(context.Settings);
            var log = new PrefixedWriter(console.Error);
            var benchmark = new WorkersBenchmark(
                context.OwnerConnectionString, context.ConnectionString, Path.Combine(AppContext.BaseDirectory, "models", "tiny-clip"), log);
            // A claim rate far below any measured one is a hang, not a figure.
            var claimTimeout = TimeSpan.FromSeconds(60 + count / 20.0);
            var measured = await benchmark.RunAsync(count, counts, TimeSpan.FromSeconds(idleSeconds), claimTimeout, cancellationToken);
            var result = new WorkersBenchmarkResult(
                DateTimeOffset.UtcNow, Environment.ProcessorCount, settings.Polling, settings.WorkerCount, settings.Embedding.BatchSize, measured);

            var path = parse.GetValue(output) ?? Path.Combine("bench-results", $"workers-{result.FinishedAt:yyyyMMdd-HHmmss}.md");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var markdown = result.ToMarkdown();
            await File.WriteAllTextAsync(path,
                path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? JsonSerializer.Serialize(result, DbFirstJson.Options) : markdown,
                cancellationToken);
            await console.Out.WriteAsync(markdown);
            await console.Error.WriteLineAsync($"dbfirst: results written to {path}");
            return result.EachRowOnce ? CommandAction.Success : CommandAction.Failure;
        });

        return command;
    }

    private static List<int> ParseCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            counts.Add(int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 16
                ? n
                : throw new GalleryException($"--workers takes counts from 1 to 16 separated by commas, e.g. 1,2,4 (got \"{part}\")"));
        }

        return counts.Count > 0 ? counts : throw new GalleryException("--workers needs at least one count, e.g. 1,2,4");
    }

    // Progress lines on stderr, in the runner's "dbfirst: " voice.
    private sealed class PrefixedWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine($"dbfirst: {value}");

        public override void Write(char value) => inner.Write(value);
    }
}
