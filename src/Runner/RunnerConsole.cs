namespace DbFirst.Runner;

/// <summary>Where a command writes: results to <see cref="Out"/>, messages and progress to <see cref="Error"/>.</summary>
/// <param name="Out">Results only, so <c>--json</c> output can be piped.</param>
/// <param name="Error">Diagnostics, warnings and progress.</param>
/// <param name="IsInteractive">Whether a person watches a terminal, so progress bars make sense.</param>
internal sealed record RunnerConsole(TextWriter Out, TextWriter Error, bool IsInteractive)
{
    public static RunnerConsole FromSystemConsole() =>
        new(Console.Out, Console.Error, !Console.IsErrorRedirected && !Console.IsOutputRedirected);
}
