using System.CommandLine;
using DbFirst.Embedding;
using DbFirst.Ingest;

namespace DbFirst.Bench.Commands;

/// <summary><c>dbfirst bench ingest</c>: ingest images/s and COPY vs multi-row INSERT rows/s, in a scratch database.</summary>
internal static class BenchIngestCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var images = new Option<int>("--images") { Description = "Generated 2 MP JPEGs to ingest", DefaultValueFactory = _ => 2000 };
        var rows = new Option<int>("--rows") { Description = "512-d vector rows per write method", DefaultValueFactory = _ => 100_000 };
        var photos = new Option<string>("--photos")
        {
            Description = "Cache folder for the generated photos (made once, reused)",
            DefaultValueFactory = _ => BenchPhotoSet.DefaultFolder,
        };
        var output = new Option<string>("--output") { Description = "Folder for the results file", DefaultValueFactory = _ => "bench-results" };
        var noEmbed = new Option<bool>("--no-embed") { Description = "Measure ingest alone, without ingest + embed" };
        var command = new Command("ingest", "Ingest (and ingest + embed) throughput over generated 2 MP JPEGs, and binary COPY vs multi-row INSERT of 512-d vectors")
        {
            images, rows, photos, output, noEmbed,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var imageCount = parse.GetValue(images);
            var rowCount = parse.GetValue(rows);
            if (imageCount < 1 || rowCount < 1)
            {
                throw new GalleryException("--images and --rows must be at least 1");
            }

            using var model = parse.GetValue(noEmbed) ? null : ClipModelLoader.Load(context, parse, options);
            var embedder = model is null ? null : new ClipImageEmbedder(model);
            var result = await new IngestBenchmark(context.OwnerConnectionString, embedder).RunAsync(
                parse.GetValue(photos)!, imageCount, rowCount, line => console.Error.WriteLine($"bench: {line}"), cancellationToken);

            var when = DateTimeOffset.Now;
            var markdown = result.ToMarkdown(when);
            var folder = Directory.CreateDirectory(parse.GetValue(output)!).FullName;
            var file = Path.Combine(folder, $"ingest-{when:yyyyMMdd-HHmmss}.md");
            await File.WriteAllTextAsync(file, markdown, cancellationToken);
            await console.Out.WriteAsync(markdown);
            await console.Error.WriteLineAsync($"bench: results written to {file}");
            return CommandAction.Success;
        });

        return command;
    }
}
