using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace DbFirst.Runner;

/// <summary>
/// Answers a command line that does not parse the way the README promises: each problem on one stderr line,
/// a pointer to the command's help, exit code 2, and nothing on stdout.
/// </summary>
/// <remarks>
/// System.CommandLine's own answer prints the whole help text after the errors and exits 1, which scripts
/// cannot tell apart from a command that ran and failed.
/// </remarks>
internal static class UsageErrors
{
    /// <summary>The exit code for bad usage.</summary>
    public const int ExitCode = 2;

    /// <summary>Whether <paramref name="parseResult"/> would run System.CommandLine's error action.</summary>
    public static bool Applies(ParseResult parseResult) => parseResult.Action is ParseErrorAction;

    /// <summary>Writes the errors and returns <see cref="ExitCode"/>.</summary>
    /// <param name="parseResult">A result for which <see cref="Applies"/> is true.</param>
    /// <param name="program">How users call the program, e.g. <c>dbfirst</c>.</param>
    /// <param name="error">Where the lines go.</param>
    public static int Report(ParseResult parseResult, string program, TextWriter error)
    {
        foreach (var problem in parseResult.Errors)
        {
            error.WriteLine($"{program}: {TerminalText.Escape(problem.Message)}");
        }

        var names = new Stack<string>();
        for (var result = parseResult.CommandResult; result.Parent is CommandResult parent; result = parent)
        {
            names.Push(result.Command.Name);
        }

        names.Push(program);
        error.WriteLine($"Run '{string.Join(' ', names)} --help' for usage.");
        return ExitCode;
    }
}
