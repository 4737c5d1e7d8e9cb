using System.CommandLine;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst bench …</c> in the product binary: the benchmarks are their own program (bench/DbFirst.Bench), kept out
/// of the product; this says where, in one line, for whoever runs the product binary directly.
/// </summary>
internal static class BenchCommand
{
    public const string Where =
        "benchmarks are not part of the product binary: run them with scripts/dbfirst bench … (the program in bench/DbFirst.Bench)";

    public static Command Create(RunnerConsole console)
    {
        var command = new Command("bench", "Benchmarks live in bench/DbFirst.Bench: run scripts/dbfirst bench …")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (_, _) =>
        {
            await console.Error.WriteLineAsync($"dbfirst: {Where}");
            return CommandAction.Failure;
        });
        return command;
    }
}
