using System.CommandLine;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst bench …</c>: the parent of the benchmarks; each part adds its own subcommand here.</summary>
internal static class BenchCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var bench = new Command("bench", "Measure throughput; results go to bench-results/ and stdout");
        bench.Subcommands.Add(BenchClipCommand.Create(options, console));
        bench.Subcommands.Add(BenchIngestCommand.Create(options, console));
        bench.Subcommands.Add(BenchEmbedCommand.Create(options, console));
        bench.Subcommands.Add(BenchSearchCommand.Create(options, console));
        bench.Subcommands.Add(BenchClaudeCommand.Create(options, console));
        return bench;
    }
}
