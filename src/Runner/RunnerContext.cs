using System.CommandLine;
using DbFirst.Clip;
using DbFirst.Configuration;
using DbFirst.Database;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Runner;

/// <summary>
/// What a command needs from its invocation: configuration layered the .NET way (appsettings.json, then
/// environment variables such as <c>ConnectionStrings__Gallery</c>, then <c>--connection</c>), the <c>--model</c>
/// option and the console. Commands read configuration only through <see cref="Settings"/>.
/// </summary>
internal sealed class RunnerContext
{
    internal RunnerContext(IConfiguration configuration, string? modelOption, RunnerConsole console)
    {
        Configuration = configuration;
        Settings = new SettingsReader(key => configuration[key]);
        ModelOption = modelOption;
        Console = console;
    }

    /// <summary>The layered configuration, for hosts that add it to their own.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>Reads configuration keys, each options record its own (see the README's configuration table).</summary>
    public SettingsReader Settings { get; }

    /// <summary><c>--model</c>, read here only; it outranks <c>Clip:ModelPath</c>.</summary>
    public string? ModelOption { get; }

    public RunnerConsole Console { get; }

    /// <summary>
    /// The database as the runtime login: <c>ConnectionStrings__Gallery</c> / <c>--connection</c>, else the local cluster
    /// as <c>dbfirst_app</c> with its password from the pgpass file of <c>scripts/db.sh</c>.
    /// </summary>
    public string ConnectionString =>
        Settings.Text("ConnectionStrings:Gallery") ?? LocalCluster.ConnectionString(LocalCluster.RuntimeLogin);

    /// <summary>
    /// The database as its owner, for migrations, index management and scratch databases: <c>ConnectionStrings__GalleryOwner</c>,
    /// else the configured runtime connection (one login for everything), else the local cluster as <c>dbfirst_owner</c>.
    /// </summary>
    public string OwnerConnectionString =>
        Settings.Text("ConnectionStrings:GalleryOwner")
        ?? Settings.Text("ConnectionStrings:Gallery")
        ?? LocalCluster.ConnectionString(LocalCluster.OwnerLogin);

    /// <summary>
    /// The owner's connection for a host's index management: <c>ConnectionStrings__GalleryOwner</c>, else the local
    /// cluster's owner when the host runs as the local cluster's runtime login, else the one connection it was given.
    /// </summary>
    public string IndexConnectionString =>
        Settings.Text("ConnectionStrings:GalleryOwner")
        ?? (ConnectionString == LocalCluster.ConnectionString(LocalCluster.RuntimeLogin)
            ? LocalCluster.ConnectionString(LocalCluster.OwnerLogin)
            : ConnectionString);

    /// <summary>Where the CLIP model is: <c>--model</c>, then <c>Clip:ModelPath</c>, then the repository's, then the bundled one.</summary>
    public ClipModelLocation ModelLocation =>
        ClipModelLocator.Resolve(ModelOption, Settings.Text(ClipModelLocator.ConfigurationKey), Directory.GetCurrentDirectory(), AppContext.BaseDirectory);

    public static RunnerContext Create(ParseResult parseResult, GlobalOptions options, RunnerConsole console)
    {
        var overrides = new Dictionary<string, string?>();
        if (parseResult.GetValue(options.Connection) is { Length: > 0 } connection)
        {
            overrides["ConnectionStrings:Gallery"] = connection;
        }

        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides)
            .Build();
        return new RunnerContext(configuration, parseResult.GetValue(options.Model), console);
    }
}
