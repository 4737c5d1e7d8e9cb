using System.CommandLine;
using DbFirst.Database;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Runner;

/// <summary>
/// What a command needs from its invocation: configuration layered the .NET way (appsettings.json,
/// then environment variables such as <c>ConnectionStrings__Gallery</c>, then command-line options) and the console.
/// </summary>
internal sealed class RunnerContext
{
    private RunnerContext(IConfiguration configuration, RunnerConsole console)
    {
        Configuration = configuration;
        Console = console;
    }

    public IConfiguration Configuration { get; }

    public RunnerConsole Console { get; }

    /// <summary>
    /// The database as the runtime login: <c>ConnectionStrings__Gallery</c> / <c>--connection</c>, else the local cluster
    /// as <c>dbfirst_app</c> with its password from the pgpass file of <c>scripts/db.sh</c>.
    /// </summary>
    public string ConnectionString =>
        Configuration.GetConnectionString("Gallery") ?? LocalCluster.ConnectionString(LocalCluster.RuntimeLogin);

    /// <summary>
    /// The database as its owner, for migrations, index management and scratch databases: <c>ConnectionStrings__GalleryOwner</c>,
    /// else the configured runtime connection (one login for everything), else the local cluster as <c>dbfirst_owner</c>.
    /// </summary>
    public string OwnerConnectionString =>
        Configuration.GetConnectionString("GalleryOwner")
        ?? Configuration.GetConnectionString("Gallery")
        ?? LocalCluster.ConnectionString(LocalCluster.OwnerLogin);

    public string? ModelPath => Configuration["Clip:ModelPath"];

    public static RunnerContext Create(ParseResult parseResult, GlobalOptions options, RunnerConsole console)
    {
        var overrides = new Dictionary<string, string?>();
        if (parseResult.GetValue(options.Connection) is { Length: > 0 } connection)
        {
            overrides["ConnectionStrings:Gallery"] = connection;
        }

        if (parseResult.GetValue(options.Model) is { Length: > 0 } model)
        {
            overrides["Clip:ModelPath"] = model;
        }

        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides)
            .Build();
        return new RunnerContext(configuration, console);
    }
}
