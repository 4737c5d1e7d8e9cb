using System.CommandLine;
using DbFirst.Runner.Commands;

namespace DbFirst.Runner;

/// <summary>The <c>dbfirst</c> command tree.</summary>
internal static class DbFirstCli
{
    public static RootCommand Build(RunnerConsole console)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("DbFirst: a PostgreSQL-first AI image gallery (CLIP embeddings in pgvector, Hangfire jobs, Claude).");
        root.Options.Add(options.Connection);
        root.Options.Add(options.Model);
        root.Subcommands.Add(MigrateCommand.Create(options, console));
        root.Subcommands.Add(ClipCommand.Create(options, console));
        root.Subcommands.Add(SearchCommand.Create(options, console));
        root.Subcommands.Add(SimilarCommand.Create(options, console));
        root.Subcommands.Add(DuplicatesCommand.Create(options, console));
        root.Subcommands.Add(IndexCommand.Create(options, console));
        root.Subcommands.Add(new Command("bench", "Measure throughput") { BenchClipCommand.Create(options, console), BenchSearchCommand.Create(options, console) });
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, RunnerConsole console, CancellationToken cancellationToken = default)
    {
        var root = Build(console);
        var configuration = new InvocationConfiguration { Output = console.Out, Error = console.Error };
        return await root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
