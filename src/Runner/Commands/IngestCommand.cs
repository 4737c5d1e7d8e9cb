using System.CommandLine;
using DbFirst.Configuration;
using DbFirst.Database;
using DbFirst.Ingest;
using Spectre.Console;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst ingest DIR… [--follow-symlinks] [--prune [--dry-run] [--force]] [--json]</c>: registers the images under some folders.</summary>
internal static class IngestCommand
{
    private const int ListedInSummary = 10;

    /// <param name="options">Options every command accepts.</param>
    /// <param name="console">Where results and messages go.</param>
    /// <param name="completed">Runs after a successful ingest; the pipeline enqueues the embedding job here.</param>
    public static Command Create(GlobalOptions options, RunnerConsole console, IIngestCompletedHandler? completed = null)
    {
        var directories = new Argument<string[]>("DIR")
        {
            Description = "Folders to walk recursively (a file names just itself)",
            Arity = ArgumentArity.OneOrMore,
        };
        var followSymlinks = new Option<bool>("--follow-symlinks") { Description = "Follow symbolic links (each folder is still entered once, so loops are harmless)" };
        var prune = new Option<bool>("--prune") { Description = "Delete the rows of files under the folders that are gone from disk" };
        var dryRun = new Option<bool>("--dry-run") { Description = "With --prune: list the rows that would be deleted, delete none" };
        var force = new Option<bool>("--force") { Description = "With --prune: delete even when the safety checks refuse (empty or remounted folder, too many rows)" };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object on stdout, and nothing else" };

        var ingest = new Command("ingest", "Register the JPEG, PNG, WebP, GIF and BMP images under folders (recognised by their bytes)")
        {
            directories, followSymlinks, prune, dryRun, force, json,
        };

        CommandAction.Set(ingest, options, console, async (context, parse, cancellationToken) =>
        {
            var ingestOptions = new IngestOptions(
                parse.GetValue(directories) ?? [],
                parse.GetValue(followSymlinks),
                parse.GetValue(prune),
                Force: parse.GetValue(force),
                DryRun: parse.GetValue(dryRun),
                PruneMaxFraction: ReadPruneMaxFraction(context.Settings));
            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            var ingester = new GalleryIngester(dataSource);

            var report = console.IsInteractive
                ? await WithProgressBarAsync(console, progress => ingester.IngestAsync(ingestOptions, progress, cancellationToken))
                : await ingester.IngestAsync(ingestOptions, cancellationToken: cancellationToken);

            var note = completed is null ? null : await completed.OnIngestCompletedAsync(report, context.ConnectionString, cancellationToken);

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(report.ToJson());
            }
            else
            {
                await WriteSummaryAsync(console.Error, report, ingestOptions);
                if (note is not null)
                {
                    await console.Error.WriteLineAsync(TerminalText.Escape(note));
                }
            }

            return CommandAction.Success;
        });

        return ingest;
    }

    private static async Task<IngestReport> WithProgressBarAsync(RunnerConsole console, Func<IProgress<IngestProgress>, Task<IngestReport>> ingest)
    {
        var terminal = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(console.Error),
            Interactive = InteractionSupport.Yes,
        });
        return await terminal.Progress()
            .AutoClear(true)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn())
            .StartAsync(async progressContext =>
            {
                var task = progressContext.AddTask("walking").IsIndeterminate();
                var report = await ingest(new ImmediateProgress(p =>
                    task.Description = $"{p.Scanned:N0} files, {p.Images:N0} images, {p.Failed:N0} failed, {p.Bytes / (1024.0 * 1024.0):N0} MiB"));
                task.IsIndeterminate(false).Value(task.MaxValue);
                return report;
            });
    }

    // The options record is public Core API and takes no reader; its default is the one fallback.
    internal static double ReadPruneMaxFraction(SettingsReader settings) =>
        settings.Double("Ingest:PruneMaxFraction", new IngestOptions([]).PruneMaxFraction, 0, 1);

    private static async Task WriteSummaryAsync(TextWriter error, IngestReport report, IngestOptions options)
    {
        await error.WriteLineAsync(
            $"dbfirst: scanned {report.Scanned} files: {report.Added} added, {report.Updated} updated, {report.Unchanged} unchanged, " +
            $"{report.Unsupported} not images, {report.Failed.Count} failed");
        foreach (var failure in report.Failed.Take(ListedInSummary))
        {
            await error.WriteLineAsync($"  failed: {TerminalText.Escape(failure.Path)}: {TerminalText.Escape(failure.Error)}");
        }

        if (report.Failed.Count > ListedInSummary)
        {
            await error.WriteLineAsync($"  … and {report.Failed.Count - ListedInSummary} more failures (--json lists them all)");
        }

        if (report.Missing.Count > 0)
        {
            await error.WriteLineAsync(
                options.Prune && options.DryRun ? $"dbfirst: {report.Missing.Count} files vanished; --dry-run: would prune {report.Missing.Count} rows, deleted none"
                : options.Prune ? $"dbfirst: {report.Missing.Count} files vanished; pruned {report.Pruned} rows (logged in gallery.prune_log)"
                : $"dbfirst: {report.Missing.Count} files vanished (--prune deletes their rows)");
            foreach (var path in options.DryRun ? report.Missing : report.Missing.Take(ListedInSummary))
            {
                await error.WriteLineAsync($"  missing: {TerminalText.Escape(path)}");
            }
        }

        if (report.Duplicates.Count > 0)
        {
            await error.WriteLineAsync($"dbfirst: {report.Duplicates.Count} groups of files with identical content (all kept; --json lists them)");
        }

        if (report.SymlinksSkipped > 0)
        {
            await error.WriteLineAsync($"dbfirst: {report.SymlinksSkipped} symbolic links not followed (--follow-symlinks follows them)");
        }
    }

    // Progress<T> posts to the thread pool; the bar only needs the latest totals, set on the caller's thread.
    private sealed class ImmediateProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
