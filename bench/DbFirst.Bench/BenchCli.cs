using System.CommandLine;
using DbFirst.Bench.Commands;

namespace DbFirst.Bench;

/// <summary>
/// The <c>dbfirst-bench</c> command tree, which <c>scripts/dbfirst bench …</c> runs: the same global options,
/// configuration and exit codes as <c>dbfirst</c>, through the runner's own <see cref="CommandAction"/>.
/// </summary>
internal static class BenchCli
{
    public static RootCommand Build(RunnerConsole console)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("DbFirst benchmarks: measure throughput; results go to bench-results/ and stdout");
        root.Options.Add(options.Connection);
        root.Options.Add(options.Model);
        root.Subcommands.Add(BenchClipCommand.Create(options, console));
        root.Subcommands.Add(BenchIngestCommand.Create(options, console));
        root.Subcommands.Add(BenchEmbedCommand.Create(options, console));
        root.Subcommands.Add(BenchSearchCommand.Create(options, console));
        root.Subcommands.Add(BenchBackfillCommand.Create(options, console));
        root.Subcommands.Add(BenchClaudeCommand.Create(options, console));
        root.Subcommands.Add(BenchWorkersCommand.Create(options, console));
        root.Subcommands.Add(BenchWorkerHostCommand.Create(options, console));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, RunnerConsole console, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // Ctrl-C cancels the run; the scratch database is dropped on the way out, which can take a few seconds.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
        };
        var parseResult = Build(console).Parse(args);
        return UsageErrors.Applies(parseResult)
            ? UsageErrors.Report(parseResult, "dbfirst bench", console.Error)
            : await parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
