using DbFirst.Search;

namespace DbFirst.Claude;

/// <summary>Claude's answer to a question over the images a search retrieved.</summary>
/// <param name="Answer">The answer text.</param>
/// <param name="Model">The model asked (the configured one, which is also the cache key).</param>
/// <param name="Images">The images given to Claude, in the order it saw them.</param>
/// <param name="InputTokens">Input tokens billed when the answer was made.</param>
/// <param name="OutputTokens">Output tokens billed when the answer was made.</param>
/// <param name="Cached">Whether the answer came from <c>gallery.ask_cache</c> without a call.</param>
/// <param name="Warnings">Images that could not be read and were left out.</param>
internal sealed record AskAnswer(
    string Answer,
    string Model,
    IReadOnlyList<SearchHit> Images,
    long InputTokens,
    long OutputTokens,
    bool Cached,
    IReadOnlyList<string> Warnings);
