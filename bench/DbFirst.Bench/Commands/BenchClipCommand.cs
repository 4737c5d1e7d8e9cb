using System.CommandLine;
using System.Text.Json;
using DbFirst.Clip;

namespace DbFirst.Bench.Commands;

/// <summary><c>dbfirst bench clip</c>: preprocessing and encoder throughput, written to a file and printed.</summary>
internal static class BenchClipCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var output = new Option<string?>("--out") { Description = "Result file (.json or .md; default bench-results/clip-<timestamp>.json)" };
        var seconds = new Option<double>("--seconds") { Description = "Seconds per case", DefaultValueFactory = _ => 3 };
        var photos = new Option<string?>("--photos") { Description = "Folder of real photos (jpg/png) to add as a preprocessing case" };
        var command = new Command("clip", "Preprocessing images/s (one core, all cores) on 12 MP and 1–2 MP JPEGs; encoders at batch 1 and 16")
        {
            output, seconds, photos,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            using var model = ClipModelLoader.Load(context, parse, options);
            var photoFiles = parse.GetValue(photos) is { } folder
                ? Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase)).Order().ToList()
                : [];
            var work = Path.Combine(Path.GetTempPath(), "dbfirst-bench-clip");
            var benchmark = new ClipBenchmark(model, TimeSpan.FromSeconds(parse.GetValue(seconds)));
            var result = await Task.Run(
                () => benchmark.Run(work, photoFiles, line => console.Error.WriteLine(line), cancellationToken), cancellationToken);

            var path = parse.GetValue(output) ?? Path.Combine("bench-results", $"clip-{result.StartedAt:yyyyMMdd-HHmmss}.json");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var markdown = result.ToMarkdown();
            var text = path.EndsWith(".md", StringComparison.OrdinalIgnoreCase)
                ? markdown
                : JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true });
            await File.WriteAllTextAsync(path, text, cancellationToken);
            await console.Out.WriteAsync(markdown);
            await console.Error.WriteLineAsync($"dbfirst: results written to {path}");
            return CommandAction.Success;
        });

        return command;
    }
}
