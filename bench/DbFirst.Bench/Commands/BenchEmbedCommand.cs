using System.CommandLine;
using System.Text.Json;
using DbFirst.Embedding;
using DbFirst.Runner.Hosting;

namespace DbFirst.Bench.Commands;

/// <summary><c>dbfirst bench embed</c>: the embedding pipeline's images/s over generated 2 MP JPEGs, against its parts alone.</summary>
internal static class BenchEmbedCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var images = new Option<int>("--images") { Description = "Number of generated JPEGs", DefaultValueFactory = _ => 2000 };
        var output = new Option<string?>("--out") { Description = "Result file (.json or .md; default bench-results/embed-<timestamp>.md)" };
        var command = new Command("embed", "Embedding pipeline images/s on generated 2 MP JPEGs (temporary database on the configured server)")
        {
            images, output,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var count = parse.GetValue(images);
            if (count < 1)
            {
                throw new GalleryException("--images must be at least 1");
            }

            var settings = EmbeddingSettings.Read(context.Configuration);
            using var model = ClipModelLoader.Load(context, parse, options);
            var files = await BenchPhotoSet.EnsureAsync(
                BenchPhotoSet.DefaultFolder, count, line => console.Error.WriteLine($"dbfirst: {line}"), cancellationToken);
            var benchmark = new EmbeddingBenchmark(model, settings);
            var result = await benchmark.RunAsync(context.OwnerConnectionString, files, line => console.Error.WriteLine($"dbfirst: {line}"), cancellationToken);

            var path = parse.GetValue(output) ?? Path.Combine("bench-results", $"embed-{result.FinishedAt:yyyyMMdd-HHmmss}.md");
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var markdown = result.ToMarkdown();
            await File.WriteAllTextAsync(path,
                path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }) : markdown,
                cancellationToken);
            await console.Out.WriteAsync(markdown);
            await console.Error.WriteLineAsync($"dbfirst: results written to {path}");
            return CommandAction.Success;
        });

        return command;
    }
}
