using DbFirst.Runner.Hosting;
using DbFirst.Search;
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

    private StandaloneEmbedHost(WebApplication app, string embedUrl)
    {
        _app = app;
        EmbedUrl = embedUrl;
    }

    /// <summary>The endpoint's full URL, for <c>gallery.settings.embed_url</c>.</summary>
    public string EmbedUrl { get; }

    /// <summary>Starts serving <paramref name="embedder"/>, signing with the encoder key of the database at <paramref name="connectionString"/>.</summary>
    public static async Task<StandaloneEmbedHost> StartAsync(ITextEmbedder embedder, string connectionString, CancellationToken cancellationToken = default)
    {
        var key = new EncoderKey(connectionString);
        await key.LoadAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(embedder);
        builder.Services.AddSingleton(key);
        var app = builder.Build();
        app.MapEmbedTextEndpoint();
        await app.StartAsync(cancellationToken);
        return new StandaloneEmbedHost(app, app.Urls.Single().TrimEnd('/') + EmbedTextEndpoint.Route);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
