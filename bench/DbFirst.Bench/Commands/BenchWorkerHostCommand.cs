using System.CommandLine;
using System.Text.Json;
using DbFirst.Runner.Hosting;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench worker-host</c> (hidden): one worker process of <c>bench workers</c>. It is <c>dbfirst worker</c>
/// built from the same product code (<see cref="GalleryHost.BuildWorker"/>: Hangfire server, recurring jobs,
/// <c>embed-pending</c>, the pipeline) with only the image encoder swapped for <see cref="CountingImageEncoder"/>,
/// which the product binary cannot load. It runs until its standard input closes, then stops like <c>worker</c>
/// on SIGTERM and prints what it encoded as one JSON line.
/// </summary>
internal static class BenchWorkerHostCommand
{
    public const string Name = "worker-host";

    /// <summary>The line on stderr that says the server runs and the recurring jobs are registered.</summary>
    public const string ReadyLine = "dbfirst: bench worker running";

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var command = new Command(Name, "One worker process of bench workers (started by it)") { Hidden = true };
        CommandAction.Set(command, options, console, async (context, _, cancellationToken) =>
        {
            var settings = GalleryHostSettings.Read(context.Settings);
            using var model = ClipModelLoader.Load(context);
            var encoder = new CountingImageEncoder();
            await GalleryHost.EnsureMigratedAsync(context.ConnectionString, cancellationToken);
            using var host = GalleryHost.BuildWorker(context, settings, model, encoder);
            await host.StartAsync(cancellationToken);
            GalleryHost.RegisterRecurringJobs(host.Services);
            await console.Error.WriteLineAsync(ReadyLine);

            // The parent closes our standard input to stop us; ReadToEnd returns then (or when the parent dies).
            await Console.In.ReadToEndAsync(cancellationToken);
            await host.StopAsync(CancellationToken.None);
            await console.Out.WriteLineAsync(JsonSerializer.Serialize(new WorkerHostReport(encoder.EncodedRows, encoder.EncodeCalls), DbFirstJson.Options));
            return CommandAction.Success;
        });
        return command;
    }
}
