using System.CommandLine;
using DbFirst.Runner.Hosting;
using Npgsql;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst serve [--urls …]</c>: Hangfire server plus the dashboard at <c>/hangfire</c> and <c>/health</c>.
/// Ctrl-C or SIGTERM stops it after the running jobs have committed the batch in hand.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var urls = new Option<string>("--urls")
        {
            Description = "Addresses to listen on, separated by ';' (the dashboard answers only local requests unless Dashboard__Username/Password are set)",
            DefaultValueFactory = _ => "http://127.0.0.1:5000",
        };
        var command = new Command("serve", "Run background jobs (Hangfire) with the dashboard at /hangfire and /health") { urls };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var settings = GalleryHostSettings.Read(context.Settings);
            using var model = ClipModelLoader.Load(context);
            await GalleryHost.EnsureMigratedAsync(context.ConnectionString, cancellationToken);
            await using var app = GalleryHost.BuildServe(context, settings, model, parse.GetValue(urls)!);
            // A serve that cannot read the encoder key could not answer gallery.search: say so now.
            await app.Services.GetRequiredService<EncoderKey>().LoadAsync();
            await app.StartAsync(cancellationToken);
            var jobs = GalleryHost.RegisterRecurringJobs(app.Services);
            // /health answers "starting" until this has run, so "ok" means gallery.search reaches this host.
            var embedUrl = await app.Services.GetRequiredService<ServeReadiness>().CompleteStartupAsync(app.Services.GetRequiredService<NpgsqlDataSource>(), app.Urls, cancellationToken);
            await console.Error.WriteLineAsync(
                $"dbfirst: serving {string.Join(", ", app.Urls)} (dashboard /hangfire, health /health); recurring jobs: {string.Join(", ", jobs)}");
            await console.Error.WriteLineAsync(embedUrl is null
                ? "dbfirst: warning: no loopback http address among --urls, so gallery.search in SQL cannot reach this host"
                : $"dbfirst: gallery.search embeds text through {embedUrl}");
            await RunUntilStoppedAsync(app, cancellationToken);
            return CommandAction.Success;
        });

        return command;
    }

    /// <summary>Waits for a stop signal, then stops the host gracefully (jobs see their cancellation token fire).</summary>
    public static async Task RunUntilStoppedAsync(IHost host, CancellationToken cancellationToken)
    {
        var lifetime = (IHostApplicationLifetime)host.Services.GetService(typeof(IHostApplicationLifetime))!;
        await using var registration = cancellationToken.Register(lifetime.StopApplication);
        await host.WaitForShutdownAsync(CancellationToken.None);
    }
}
