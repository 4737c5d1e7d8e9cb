using DbFirst.Database;
using DbFirst.Runner.Hosting;
using DbFirst.Search;
using Npgsql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbFirst.Testing;

/// <summary>
/// A host serving only <c>POST /embed/text</c> on a free loopback port: what <c>dbfirst bench search</c>
/// and the tests use where <c>dbfirst serve</c> is not running.
/// </summary>
internal sealed class StandaloneEmbedHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly NpgsqlDataSource _dataSource;

    private StandaloneEmbedHost(WebApplication app, NpgsqlDataSource dataSource, string embedUrl)
    {
        _app = app;
        _dataSource = dataSource;
        EmbedUrl = embedUrl;
    }

    /// <summary>The endpoint's full URL, for <c>gallery.settings.embed_url</c>.</summary>
    public string EmbedUrl { get; }

    /// <summary>Starts serving <paramref name="embedder"/>, signing with the encoder key of the database at <paramref name="connectionString"/>.</summary>
    /// <remarks>Takes a connection string because its callers hold one for a scratch database; the host owns its data source.</remarks>
    public static async Task<StandaloneEmbedHost> StartAsync(ITextEmbedder embedder, string connectionString, CancellationToken cancellationToken = default)
    {
        var dataSource = GalleryDataSource.Create(connectionString);
        try
        {
            var key = new EncoderKey(dataSource);
            await key.LoadAsync();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(embedder);
            builder.Services.AddSingleton(key);
            var app = builder.Build();
            app.MapEmbedTextEndpoint();
            await app.StartAsync(cancellationToken);
            return new StandaloneEmbedHost(app, dataSource, app.Urls.Single().TrimEnd('/') + EmbedTextEndpoint.Route);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
