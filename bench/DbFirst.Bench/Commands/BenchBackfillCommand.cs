using System.CommandLine;
using System.Text.Json;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench backfill --staged-model DIR</c>: a second model's backfill (a real <c>dbfirst embed</c> process)
/// while the first (<c>--model</c>) serves searches, in a scratch database: images/s, peak RSS, search p50/p95 before
/// and during, errors, and rows that are not the active model's.
/// </summary>
internal static class BenchBackfillCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var staged = new Option<string>("--staged-model") { Description = "The model to stage and backfill (another name than --model's)", Required = true };
        var images = new Option<int>("--images") { Description = "Number of generated 2 MP JPEGs", DefaultValueFactory = _ => 300 };
        var before = new Option<double>("--before-seconds") { Description = "How long the searches run alone before the stage", DefaultValueFactory = _ => 30 };
        var output = new Option<string?>("--out") { Description = "Result file (default bench-results/backfill-<time>.md, with a .json beside it)" };
        var command = new Command("backfill", "A staged model's backfill by dbfirst embed while the active model serves searches (temporary database on the configured server)")
        {
            staged, images, before, output,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var count = parse.GetValue(images);
            if (count < 2 || parse.GetValue(before) <= 0)
            {
                throw new GalleryException("--images must be at least 2 and --before-seconds more than 0");
            }

            var active = context.ModelLocation.Directory;
            var stagedModel = Path.GetFullPath(parse.GetValue(staged)!);
            if (!Directory.Exists(stagedModel))
            {
                throw new GalleryException($"--staged-model: no such folder {stagedModel}");
            }

            void Log(string line) => console.Error.WriteLine($"dbfirst: {line}");
            var files = await BenchPhotoSet.EnsureAsync(BenchPhotoSet.DefaultFolder, count, Log, cancellationToken);
            var result = await new BackfillBenchmark(context.OwnerConnectionString, Log).RunAsync(
                Path.GetFullPath(active), stagedModel, files, TimeSpan.FromSeconds(parse.GetValue(before)), cancellationToken);

            var path = parse.GetValue(output) ?? Path.Combine("bench-results", $"backfill-{result.FinishedAt:yyyyMMdd-HHmmss}.md");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var markdown = result.ToMarkdown();
            await File.WriteAllTextAsync(path, markdown, cancellationToken);
            await File.WriteAllTextAsync(Path.ChangeExtension(path, ".json"), JsonSerializer.Serialize(result, DbFirstJson.Options), cancellationToken);
            await console.Out.WriteAsync(markdown);
            await console.Error.WriteLineAsync($"dbfirst: results written to {path} and {Path.ChangeExtension(path, ".json")}");
            return CommandAction.Success;
        });

        return command;
    }
}
