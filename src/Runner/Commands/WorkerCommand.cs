using System.CommandLine;
using DbFirst.Runner.Hosting;
using Microsoft.Extensions.Hosting;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst worker</c>: a Hangfire server without the dashboard, so more machines can work the same queue.</summary>
internal static class WorkerCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var command = new Command("worker", "Run background jobs (Hangfire) without the dashboard; start one per extra machine");
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var settings = GalleryHostSettings.Read(context.Settings);
            using var model = ClipModelLoader.Load(context);
            await GalleryHost.EnsureMigratedAsync(context.ConnectionString, cancellationToken);
            using var host = GalleryHost.BuildWorker(context, settings, model);
            await host.StartAsync(cancellationToken);
            var jobs = GalleryHost.RegisterRecurringJobs(host.Services);
            await console.Error.WriteLineAsync($"dbfirst: worker running; recurring jobs: {string.Join(", ", jobs)}");
            await ServeCommand.RunUntilStoppedAsync(host, cancellationToken);
            return CommandAction.Success;
        });

        return command;
    }
}
