using DbFirst.Search;

namespace DbFirst.Tests.Support;

/// <summary>A minimal host serving <c>POST /embed/text</c> on a free loopback port, as <c>dbfirst serve</c> does.</summary>
public sealed class TextEncoderHost : IAsyncDisposable
{
    private readonly StandaloneEmbedHost _host;

    private TextEncoderHost(StandaloneEmbedHost host) => _host = host;

    /// <summary>The full URL of the endpoint, for <c>gallery.settings.embed_url</c>.</summary>
    public string EmbedUrl => _host.EmbedUrl;

    /// <summary>Starts serving <paramref name="embedder"/> with the encoder key of the database at <paramref name="connectionString"/>.</summary>
    public static async Task<TextEncoderHost> StartAsync(ITextEmbedder embedder, string connectionString) =>
        new(await StandaloneEmbedHost.StartAsync(embedder, connectionString));

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
