using System.CommandLine;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench search</c>: per configuration (<see cref="SearchConfigurations"/>) build time, peak build memory,
/// index size, recall and latency on a synthetic set (<see cref="SearchVectorSet"/>) in a scratch database; filtered
/// search, stored neighbours and <c>gallery.search</c> with new and cached text.
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
        var set = new Option<string>("--set") { Description = "Vectors: mixture (CLIP-like clusters) or hard (nearly uniform)", DefaultValueFactory = _ => "mixture" };
        set.AcceptOnlyFromAmong(SearchVectorSet.Names);
        var configs = new Option<string?>("--configs")
        {
            Description = $"Comma-separated configurations to measure, of {string.Join(", ", SearchConfigurations.All)} (default {string.Join(",", SearchConfigurations.Default)})",
        };
        var spread = new Option<double?>("--spread") { Description = $"The hard set's per-dimension noise (default {SearchVectorSet.HardSpread}), to calibrate it" };
        var centres = new Option<int?>("--centres") { Description = $"The hard set's centres (default {SearchVectorSet.HardCentres}), to calibrate it at fewer rows" };
        var tuneSample = new Option<int>("--tune-sample") { Description = "Rows hnsw-build samples to try build parameters on", DefaultValueFactory = _ => BuildTuneOptions.DefaultSampleRows };
        var fill = new Option<long?>("--fill-neighbours") { Description = "Most loaded images duplicates looks up (default all)" };
        var noRebuild = new Option<bool>("--no-rebuild")
        {
            Description = "hnsw-build chooses build parameters on the sample and plans the full build, without running it (at sizes where it takes hours)",
        };
        var maxBuildMinutes = new Option<int>("--max-build-minutes")
        {
            Description = "hnsw-build's budget for the full rebuild it may choose (0: no bound)",
            DefaultValueFactory = _ => BuildTuneOptions.DefaultMaxBuildMinutes,
        };
        var reuse = new Option<string?>("--reuse")
        {
            Description = "A scratch database an earlier --keep run of the same --set and --rows left: skips the load, and the HNSW build when its index is in place (kept again)",
        };
        var command = new Command("search", "Benchmark vector search: exact, IVFFlat, HNSW (default, tuned, build parameters tuned), filtered search, stored neighbours, gallery.search")
        {
            rows, queries, target, output, noText, keep, set, configs, spread, centres, tuneSample, fill, noRebuild, reuse, maxBuildMinutes,
        };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var count = parse.GetValue(rows);
            if (count < 2000 || parse.GetValue(queries) < 10)
            {
                throw new GalleryException("--rows must be at least 2000 and --queries at least 10");
            }

            if (parse.GetValue(spread) is <= 0 or > 10 || parse.GetValue(fill) is < 1 || parse.GetValue(centres) is < 1)
            {
                throw new GalleryException("--spread must be above 0 and at most 10, and --fill-neighbours and --centres at least 1");
            }

            var chosen = SearchConfigurations.Parse(parse.GetValue(configs));
            new BuildTuneOptions(parse.GetValue(tuneSample), MaxBuildMinutes: parse.GetValue(maxBuildMinutes)).Validate();

            var report = parse.GetValue(output)?.FullName
                ?? Path.Combine("bench-results", $"search-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.md");
            var log = new StampedWriter(console.Error);
            Clip.ClipModel? model = null;
            StandaloneEmbedHost? host = null;
            try
            {
                ITextEmbedder? embedder = null;
                if (!parse.GetValue(noText) && chosen.Contains(SearchConfigurations.Text))
                {
                    model = ClipModelLoader.Load(context);
                    embedder = new ClipTextEmbedder(model);
                    host = await StandaloneEmbedHost.StartAsync(embedder, context.OwnerConnectionString, cancellationToken);
                }

                var run = new SearchBenchmarkOptions(
                    count, parse.GetValue(queries), 10, parse.GetValue(target), parse.GetValue(set)!, parse.GetValue(configs), report, parse.GetValue(keep),
                    parse.GetValue(spread), parse.GetValue(centres), parse.GetValue(tuneSample), parse.GetValue(fill), !parse.GetValue(noRebuild), parse.GetValue(reuse), parse.GetValue(maxBuildMinutes));
                await new SearchBenchmark(context.OwnerConnectionString, log).RunAsync(run, host?.EmbedUrl, embedder, cancellationToken);
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
