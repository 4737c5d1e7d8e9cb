using DbFirst.Claude;
using DbFirst.Clip;
using DbFirst.Database;
using DbFirst.Embedding;
using DbFirst.Indexing;
using DbFirst.Jobs;
using DbFirst.Runner.Gallery;
using DbFirst.Files;
using DbFirst.Search;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Builds the processes that run Hangfire jobs: <c>dbfirst serve</c> (web host with dashboard and <c>/health</c>) and
/// <c>dbfirst worker</c> (Hangfire server only). Both share one set of services, so a job runs the same anywhere.
/// </summary>
internal static class GalleryHost
{
    /// <summary>How long a stopping server waits for the batch in hand to be committed.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromMinutes(5);

    private const string IndexDataSourceKey = "index";

    /// <summary>The web host: Hangfire server, dashboard at <c>/hangfire</c>, the gallery page at <c>/</c>, <c>/health</c>.</summary>
    /// <remarks><paramref name="settings"/> were read before anything started (<see cref="GalleryHostSettings.Read"/>).</remarks>
    public static WebApplication BuildServe(RunnerContext context, GalleryHostSettings settings, ClipModel model, string urls)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddConfiguration(context.Configuration);
        builder.WebHost.UseUrls(urls);
        AddServices(builder.Services, context, settings, model, "serve");

        var access = settings.Dashboard.Access();
        var hosts = HostRules.Create(settings.Dashboard.AllowedHosts, urls, access.RequiresCredentials);
        AddGalleryPage(builder.Services, settings, model);

        var app = builder.Build();
        // First: no page, dashboard or action sees a request from a foreign Host or Origin, or one that fails the access rule.
        app.UseMiddleware<RequestOriginGuard>(access, hosts);
        UseDashboard(app, access);
        app.MapHealthEndpoint();
        app.MapEmbedTextEndpoint();
        app.MapGalleryPage();
        return app;
    }

    /// <summary>
    /// Maps the dashboard at <c>/hangfire</c> with <paramref name="access"/>: local requests only, or basic auth for
    /// everyone when credentials are configured; the storage connection string is never displayed. Where ASP.NET Core antiforgery is registered (as in
    /// <c>serve</c>), Hangfire refuses every dashboard POST without its token. The home page shows the staged model's backfill.
    /// </summary>
    public static void UseDashboard(IApplicationBuilder app, DashboardAccessFilter access)
    {
        BackfillDashboardMetric.Register();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            DashboardTitle = "DbFirst jobs",
            // Replaces Hangfire's default LocalRequestsOnly filter with local-or-basic-auth.
            Authorization = [],
            AsyncAuthorization = [access],
            DisplayStorageConnectionString = false,
            AppPath = null,
        });
    }

    /// <summary>A Hangfire server without any web endpoint, to add machines to the same queue.</summary>
    /// <param name="context">The invocation's configuration and connection strings.</param>
    /// <param name="settings">Read before anything started (<see cref="GalleryHostSettings.Read"/>).</param>
    /// <param name="model">The process's CLIP model: the text encoder, and the image encoder unless <paramref name="imageEncoder"/> is given.</param>
    /// <param name="imageEncoder">
    /// The image encoder the jobs embed with; <paramref name="model"/>'s by default. <c>dbfirst bench workers</c> passes a
    /// counting one, so its workers run this very host and pipeline without CLIP hiding the queue's own cost.
    /// </param>
    public static IHost BuildWorker(RunnerContext context, GalleryHostSettings settings, ClipModel model, IImageEmbedder? imageEncoder = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.Configuration.AddConfiguration(context.Configuration);
        AddServices(builder.Services, context, settings, model, "worker", imageEncoder);
        return builder.Build();
    }

    /// <summary>Adds or updates the recurring jobs as configured; every server does it, so all must share configuration.</summary>
    public static IReadOnlyList<string> RegisterRecurringJobs(IServiceProvider services) =>
        RecurringJobCatalog.Register(services.GetRequiredService<IRecurringJobManager>(), services.GetRequiredService<GalleryHostSettings>().Jobs);

    /// <summary>Refuses to run jobs against a schema they do not match.</summary>
    public static async Task EnsureMigratedAsync(string connectionString, CancellationToken cancellationToken)
    {
        var pending = (await new GalleryMigrator(connectionString).ListAsync(cancellationToken)).Where(m => !m.IsApplied).ToList();
        if (pending.Count > 0)
        {
            throw new GalleryException(
                $"the database lacks migration(s) {string.Join(", ", pending.Select(m => m.Version))}: run 'dbfirst migrate up' first");
        }
    }

    /// <summary>The gallery page's services; antiforgery also arms Hangfire's dashboard against cross-site POSTs.</summary>
    private static void AddGalleryPage(IServiceCollection services, GalleryHostSettings settings, ClipModel model)
    {
        // Keys live in memory only: nothing unencrypted on disk, and a restart merely asks the browser to reload the form.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "dbfirst-antiforgery";
            // One cookie for the page and the dashboard (whose path base would otherwise scope a second one to /hangfire).
            options.Cookie.Path = "/";
            options.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });
        services.AddSingleton(provider => new GallerySearch(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(provider => new GalleryPageStore(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(provider => new CachedGalleryStatus(provider.GetRequiredService<NpgsqlDataSource>()));
        services.AddSingleton(provider => new GalleryAskService(
            provider.GetRequiredService<NpgsqlDataSource>(), provider.GetRequiredService<ITextEmbedder>(), provider.GetRequiredService<ClaudeOptions>()));
        services.AddSingleton(new ThumbnailCache(settings.Thumbnails.Directory, settings.Thumbnails.MaxBytes, new IngestedFileReader(settings.Embedding.Files)));
    }

    private static void AddServices(
        IServiceCollection services, RunnerContext context, GalleryHostSettings settings, ClipModel model, string role, IImageEmbedder? imageEncoder = null)
    {
        var connectionString = context.ConnectionString;
        var indexConnectionString = context.IndexConnectionString;
        services.AddSingleton(settings);
        services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout + TimeSpan.FromSeconds(15));
        services.AddSingleton(_ => GalleryDataSource.Create(connectionString));
        services.AddSingleton(model);
        services.AddSingleton<IImageEmbedder>(imageEncoder ?? new ClipImageEmbedder(model));
        services.AddSingleton(settings.Embedding);
        // One per process: the models it loads from the registry's folders are kept for every later job run.
        services.AddSingleton(provider => new RegistryEmbedding(
            provider.GetRequiredService<NpgsqlDataSource>(),
            provider.GetRequiredService<IImageEmbedder>(),
            provider.GetRequiredService<EmbeddingOptions>(),
            provider.GetRequiredService<ILoggerFactory>()));
        services.AddTransient<EmbedPendingJob>();
        // The text encoder follows the registry's active model, so a promote or rollback needs no restart.
        services.AddSingleton<ITextEmbedder>(provider => new ActiveModelTextEmbedder(provider.GetRequiredService<NpgsqlDataSource>(), model));
        services.AddSingleton(provider => new EncoderKey(provider.GetRequiredService<NpgsqlDataSource>()));
        // Index builds and swaps need table ownership (PostgreSQL 15 has no narrower right), so maintain-index
        // alone works through the owner login; every other job uses the runtime login's data source.
        services.AddKeyedSingleton(IndexDataSourceKey, (_, _) => GalleryDataSource.Create(indexConnectionString));
        services.AddSingleton(provider => new VectorIndexManager(provider.GetRequiredKeyedService<NpgsqlDataSource>(IndexDataSourceKey), settings.BuildMemoryCeiling));
        services.AddTransient<MaintainIndexJob>();
        services.AddTransient<FillNeighboursJob>();
        // The describe-pending job reads the key here, in the process, never from its Hangfire arguments.
        services.AddSingleton(settings.Claude);
        services.AddSingleton(settings.DescribeLimits);
        services.AddTransient<DescribePendingJob>();
        services.AddTransient<CollectDescribeBatchesJob>();
        // Only serve has start-up steps (publishing its address); a worker serves no /health.
        services.AddSingleton(role == "serve" ? ServeReadiness.Starting() : ServeReadiness.Ready());
        // The probe and the migration check take the connection string: FluentMigrator opens its own connections.
        services.AddSingleton(provider => new GalleryHealthProbe(
            connectionString, model, provider.GetRequiredService<ServeReadiness>(), provider.GetRequiredService<ILogger<GalleryHealthProbe>>()));

        // Hangfire.PostgreSql's storage opens its own connections from a connection string.
        services.AddHangfire(hangfire => hangfire.UseGalleryStorage(connectionString, settings.Polling));
        services.AddHangfireServer(server =>
        {
            server.ServerName = $"dbfirst-{role}:{Environment.MachineName}:{Environment.ProcessId}";
            server.WorkerCount = settings.WorkerCount;
            // Recurring jobs and delayed retries are found by this poll; the queue's own poll is the storage's.
            server.SchedulePollingInterval = settings.Polling.SchedulePollingInterval;
            server.ShutdownTimeout = ShutdownTimeout;
        });
    }
}
