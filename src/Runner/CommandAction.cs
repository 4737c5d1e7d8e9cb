using System.CommandLine;
using System.Net.Sockets;
using DbFirst.Database;
using Npgsql;

namespace DbFirst.Runner;

/// <summary>
/// Runs a command's body and turns the failures a user can fix into one clear line on stderr and a
/// meaningful exit code: 0 success, 1 failure, 130 cancelled.
/// </summary>
internal static class CommandAction
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static void Set(Command command, GlobalOptions options, RunnerConsole console, Func<RunnerContext, ParseResult, CancellationToken, Task<int>> body) =>
        command.SetAction((parseResult, cancellationToken) => RunAsync(parseResult, options, console, body, cancellationToken));

    private static async Task<int> RunAsync(
        ParseResult parseResult,
        GlobalOptions options,
        RunnerConsole console,
        Func<RunnerContext, ParseResult, CancellationToken, Task<int>> body,
        CancellationToken cancellationToken)
    {
        RunnerContext? context = null;
        try
        {
            context = RunnerContext.Create(parseResult, options, console);
            return await body(context, parseResult, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync("dbfirst: cancelled");
            return Cancelled;
        }
        catch (GalleryException exception)
        {
            await console.Error.WriteLineAsync($"dbfirst: {TerminalText.Escape(exception.Message)}");
            return Failure;
        }
        catch (Exception exception)
        {
            await console.Error.WriteLineAsync($"dbfirst: {TerminalText.Escape(Describe(exception, context))}");
            if (Environment.GetEnvironmentVariable("DBFIRST_DEBUG") == "1")
            {
                await console.Error.WriteLineAsync(TerminalText.EscapeKeepingLines(exception.ToString()));
            }

            return Failure;
        }
    }

    // FluentMigrator and Hangfire wrap driver errors in their own exceptions; the innermost one names the cause.
    private static string Describe(Exception exception, RunnerContext? context)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case GalleryException gallery:
                    return gallery.Message;
                case PostgresException { SqlState: "28P01" or "28000" or "3D000" or "57P03" } postgres:
                    return $"cannot use the database at {Where(context)}: {postgres.MessageText}";
                case PostgresException postgres:
                    return $"database error {postgres.SqlState}: {postgres.MessageText}";
                case NpgsqlException or SocketException or TimeoutException:
                    var reason = current.InnerException?.Message ?? current.Message;
                    return $"cannot reach PostgreSQL at {Where(context)}: {reason} (start it with scripts/db.sh start, or set ConnectionStrings__Gallery / --connection)";
                case ArgumentException argument when argument.TargetSite?.DeclaringType?.Namespace?.StartsWith("Npgsql", StringComparison.Ordinal) == true:
                    return $"invalid connection string: {argument.Message}";
            }
        }

        return $"unexpected error: {exception.GetType().Name}: {exception.Message} (set DBFIRST_DEBUG=1 for the stack trace)";
    }

    private static string Where(RunnerContext? context)
    {
        try
        {
            return context is null ? "(unknown)" : GalleryDataSource.Describe(context.ConnectionString);
        }
        catch (GalleryException)
        {
            return "(none configured)";
        }
    }
}
