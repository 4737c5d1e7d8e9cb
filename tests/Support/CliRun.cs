using DbFirst.Runner;

namespace DbFirst.Tests.Support;

/// <summary>Runs the <c>dbfirst</c> command tree in-process and captures what it printed.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await DbFirstCli.InvokeAsync(args, new RunnerConsole(output, error, IsInteractive: false));
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }
}
