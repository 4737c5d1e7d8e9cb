using System.CommandLine;
using System.Text.Json;
using DbFirst.Database;
using DbFirst.Embedding;
using DbFirst.Runner.Hosting;
using Spectre.Console;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst embed [--limit N] [--reembed] [--json]</c>: embeds the active model's pending rows, then backfills the
/// staged model (each up to --limit rows), as the <c>embed-pending</c> job does. Ctrl-C or SIGTERM stops after the batch in hand is committed.
/// </summary>
internal static class EmbedCommand
{

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var limit = new Option<int?>("--limit") { Description = "Claim at most this many rows" };
        // Kept so that scripts written for it still run: a row embedded by another model is pending for the active one by itself.
        var reembed = new Option<bool>("--reembed") { Description = "No longer needed: rows embedded only by another model are pending for this one" };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary on stdout and nothing else" };
        var command = new Command("embed", "Embed the rows that have no embedding yet (any number of these may run at once, on any machine)")
        {
            limit, reembed, json,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            if (parse.GetValue(limit) is < 1)
            {
                throw new GalleryException("--limit must be at least 1");
            }

            var settings = EmbeddingOptions.Read(context.Settings);
            using var model = ClipModelLoader.Load(context);
            await GalleryHost.EnsureMigratedAsync(context.ConnectionString, cancellationToken);
            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            using var embedding = new RegistryEmbedding(dataSource, new ClipImageEmbedder(model), settings);
            var request = new EmbeddingRequest(parse.GetValue(limit));
            if (parse.GetValue(reembed))
            {
                await console.Error.WriteLineAsync("dbfirst: --reembed is no longer needed: rows embedded only by another model are pending for this one");
            }

            var result = await embedding.RunAsync(
                request,
                console.IsInteractive
                    ? (pipeline, token) => RunWithProgressAsync(pipeline, request, console, token)
                    : null,
                cancellationToken);
            foreach (var problem in result.Problems)
            {
                await console.Error.WriteLineAsync($"dbfirst: {TerminalText.Escape(problem)}");
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(Summary(result), DbFirstJson.Options));
            }
            else
            {
                await console.Out.WriteLineAsync(Describe(result.Active));
                if (result.Staged is { } staged)
                {
                    await console.Out.WriteLineAsync($"staged: {Describe(staged)}");
                }
            }

            return result.Stopped ? CommandAction.Cancelled : CommandAction.Success;
        });

        return command;
    }

    /// <summary>
    /// The <c>--json</c> summary: the active model's figures under today's keys, the staged model's backfill under
    /// <c>staged</c> (same shape, null when none ran), and <c>problems</c> (models that could not be loaded here).
    /// </summary>
    public static object Summary(RegistryEmbeddingResult result)
    {
        var active = (Dictionary<string, object?>)Summary(result.Active);
        active["staged"] = result.Staged is null ? null : Summary(result.Staged);
        active["problems"] = result.Problems;
        return active;
    }

    /// <summary>One model's figures.</summary>
    public static object Summary(EmbeddingResult result) => new Dictionary<string, object?>
    {
        ["model"] = result.Model,
        ["embedded"] = result.Embedded,
        ["failed"] = result.FailedPermanently + result.FailedTransiently,
        ["failed_permanently"] = result.FailedPermanently,
        ["will_retry"] = result.FailedTransiently,
        ["released"] = result.Released,
        ["batches"] = result.Batches,
        ["elapsed_s"] = Math.Round(result.Elapsed.TotalSeconds, 3),
        ["images_per_s"] = Math.Round(result.RowsPerSecond, 1),
        ["stopped"] = result.Stopped,
    };

    private static string Describe(EmbeddingResult result) =>
        $"embedded {result.Embedded}, failed {result.FailedPermanently + result.FailedTransiently} " +
        $"({result.FailedPermanently} permanently), {result.RowsPerSecond:F1} images/s with {result.Model}" +
        (result.Stopped ? " (stopped early)" : "");

    private static async Task<EmbeddingResult> RunWithProgressAsync(
        EmbeddingPipeline pipeline, EmbeddingRequest request, RunnerConsole console, CancellationToken cancellationToken)
    {
        var total = await pipeline.CountWorkAsync(cancellationToken);
        if (request.Limit is { } cap)
        {
            total = Math.Min(total, cap);
        }

        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error) });
        EmbeddingResult? result = null;
        await ansi.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"embedding with {Markup.Escape(TerminalText.Escape(pipeline.ModelName))}", maxValue: Math.Max(total, 1));
                var report = new Progress<EmbeddingProgress>(p => task.Value = p.Embedded + p.Failed);
                result = await pipeline.RunAsync(request, report, cancellationToken);
                task.Value = task.MaxValue;
            });
        return result!;
    }
}
