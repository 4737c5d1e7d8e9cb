using DbFirst.Runner.Hosting;
using DbFirst.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbFirst.Tests.Support;

/// <summary>A minimal host serving <c>POST /embed/text</c> on a free loopback port, as <c>dbfirst serve</c> does.</summary>
public sealed class TextEncoderHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TextEncoderHost(WebApplication app, string url)
    {
        _app = app;
        EmbedUrl = url;
    }

    /// <summary>The full URL of the endpoint, for <c>gallery.settings.embed_url</c>.</summary>
    public string EmbedUrl { get; }

    public static async Task<TextEncoderHost> StartAsync(ITextEmbedder embedder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(embedder);
        var app = builder.Build();
        app.MapEmbedTextEndpoint();
        await app.StartAsync();
        var address = app.Urls.Single();
        return new TextEncoderHost(app, address.TrimEnd('/') + EmbedTextEndpoint.Route);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
