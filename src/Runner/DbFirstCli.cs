using System.CommandLine;
using DbFirst.Runner.Commands;
using DbFirst.Runner.Hosting;

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
        root.Subcommands.Add(IngestCommand.Create(options, console, new EmbeddingOnIngest()));
        root.Subcommands.Add(EmbedCommand.Create(options, console));
        root.Subcommands.Add(SearchCommand.Create(options, console));
        root.Subcommands.Add(SimilarCommand.Create(options, console));
        root.Subcommands.Add(DuplicatesCommand.Create(options, console));
        root.Subcommands.Add(DescribeCommand.Create(options, console));
        root.Subcommands.Add(AskCommand.Create(options, console));
        root.Subcommands.Add(IndexCommand.Create(options, console));
        root.Subcommands.Add(ModelCommand.Create(options, console));
        root.Subcommands.Add(ServeCommand.Create(options, console));
        root.Subcommands.Add(WorkerCommand.Create(options, console));
        root.Subcommands.Add(StatusCommand.Create(options, console));
        root.Subcommands.Add(BenchCommand.Create(console));
        root.Subcommands.Add(SamplesCommand.Create(options, console));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args, RunnerConsole console, CancellationToken cancellationToken = default)
    {
        var root = Build(console);
        var configuration = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            // Ctrl-C/SIGTERM cancel the command's token; long-running commands (embed, serve, worker) then commit the
            // batch in hand, which takes longer than System.CommandLine's default 2 s grace before it gives up waiting.
            ProcessTerminationTimeout = GalleryHost.ShutdownTimeout + TimeSpan.FromSeconds(30),
        };
        var parseResult = root.Parse(args);
        return UsageErrors.Applies(parseResult)
            ? UsageErrors.Report(parseResult, "dbfirst", console.Error)
            : await parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
