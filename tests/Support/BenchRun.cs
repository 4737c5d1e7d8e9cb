using DbFirst.Bench;
using DbFirst.Runner;

namespace DbFirst.Tests.Support;

/// <summary>Runs the <c>dbfirst-bench</c> command tree in-process and captures what it printed, as <see cref="CliRun"/> does for <c>dbfirst</c>.</summary>
public static class BenchRun
{
    public static async Task<CliRun> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await BenchCli.InvokeAsync(args, new RunnerConsole(output, error, IsInteractive: false));
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }
}
