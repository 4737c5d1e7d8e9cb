using DbFirst.Claude;
using DbFirst.Clip;
using DbFirst.Search;
using Npgsql;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// The page's ask box: <c>dbfirst ask</c>'s <see cref="GalleryAsker"/> over the host's text encoder (it follows the active model) and data source.
/// Without an API key it is off and says so; answers already in <c>gallery.ask_cache</c> cost no call.
/// </summary>
internal sealed class GalleryAskService : IDisposable
{
    /// <summary>The most images one question shows Claude, as for <c>dbfirst ask -k</c>.</summary>
    public const int MaxK = 20;

    private readonly ClaudeClient? _claude;
    private readonly GalleryAsker? _asker;
    private readonly ClipImageRetriever _retriever;

    public GalleryAskService(NpgsqlDataSource dataSource, ITextEmbedder embedder, ClaudeOptions options)
    {
        _retriever = new ClipImageRetriever(dataSource, embedder);
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            _claude = new ClaudeClient(options);
            _asker = new GalleryAsker(dataSource, _retriever, _claude);
        }
    }

    public bool IsConfigured => _asker is not null;

    /// <exception cref="GalleryException">No API key, an empty question, nothing to ask about, or Claude failed.</exception>
    public Task<AskAnswer> AskAsync(string question, int k, CancellationToken cancellationToken = default)
    {
        if (_asker is null)
        {
            throw new GalleryException("asking needs ANTHROPIC_API_KEY in the environment of 'dbfirst serve'");
        }

        if (k is < 1 or > MaxK)
        {
            throw new GalleryException($"k must be between 1 and {MaxK}");
        }

        return _asker.AskAsync(question, k, cancellationToken);
    }

    public void Dispose()
    {
        _claude?.Dispose();
        _retriever.Dispose();
    }
}
