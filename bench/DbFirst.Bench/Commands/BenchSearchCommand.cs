using System.CommandLine;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench search</c>: recall and latency of exact, seed, tuned IVFFlat and tuned HNSW search on
/// synthetic clustered vectors in a scratch database, plus <c>gallery.search</c> with new and cached text.
/// </summary>
internal static class BenchSearchCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var rows = new Option<int>("--rows") { Description = "Synthetic vectors to load", DefaultValueFactory = _ => 100_000 };
        var queries = new Option<int>("--queries") { Description = "Held-out query vectors", DefaultValueFactory = _ => 200 };
        var target = new Option<double>("--target-recall") { Description = "Recall the tuner aims for", DefaultValueFactory = _ => 0.95 };
        var output = new Option<FileInfo?>("--out") { Description = "Report file (default bench-results/search-<time>.md)" };
        var noText = new Option<bool>("--no-text") { Description = "Skip gallery.search (it loads CLIP to serve /embed/text)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the scratch database for a closer look" };
        var command = new Command("search", "Benchmark vector search: exact, seed IVFFlat, tuned IVFFlat, tuned HNSW, gallery.search") { rows, queries, target, output, noText, keep };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var count = parse.GetValue(rows);
            if (count < 2000 || parse.GetValue(queries) < 10)
            {
                throw new GalleryException("--rows must be at least 2000 and --queries at least 10");
            }

            var report = parse.GetValue(output)?.FullName
                ?? Path.Combine("bench-results", $"search-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.md");
            var log = new StampedWriter(console.Error);
            Clip.ClipModel? model = null;
            StandaloneEmbedHost? host = null;
            try
            {
                ITextEmbedder? embedder = null;
                if (!parse.GetValue(noText))
                {
                    model = ClipModelLoader.Load(context, parse, options);
                    embedder = new ClipTextEmbedder(model);
                    host = await StandaloneEmbedHost.StartAsync(embedder, context.OwnerConnectionString, cancellationToken);
                }

                await new SearchBenchmark(context.OwnerConnectionString, log).RunAsync(
                    count, parse.GetValue(queries), 10, parse.GetValue(target), host?.EmbedUrl, embedder, report, parse.GetValue(keep), cancellationToken);
            }
            finally
            {
                if (host is not null)
                {
                    await host.DisposeAsync();
                }

                model?.Dispose();
            }

            await console.Out.WriteAsync(await File.ReadAllTextAsync(report, cancellationToken));
            await console.Error.WriteLineAsync($"dbfirst: wrote {Path.GetFullPath(report)}");
            return CommandAction.Success;
        });
        return command;
    }

    private sealed class StampedWriter(TextWriter inner) : TextWriter
    {
        private readonly DateTime _start = DateTime.UtcNow;

        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine($"[{(DateTime.UtcNow - _start).TotalSeconds,6:F1}s] {value}");

        public override void Write(char value) => inner.Write(value);
    }
}
