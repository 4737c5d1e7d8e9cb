namespace DbFirst.Search;

/// <summary>
/// Turns search text into an embedding in the same space as the gallery's image embeddings.
/// CLIP's text encoder is the real one; tests use deterministic fakes.
/// </summary>
public interface ITextEmbedder
{
    /// <summary>The model name stored with cached text embeddings, e.g. <c>ViT-B-32__openai</c>.</summary>
    string Model { get; }

    /// <summary>Embeds <paramref name="text"/>; the result is L2-normalised. Safe to call from several threads.</summary>
    float[] Embed(string text);

    /// <summary>
    /// Embeds <paramref name="text"/> and names the model that did, as one answer: an embedder that follows the
    /// registry's active model may switch between reading <see cref="Model"/> and calling <see cref="Embed"/>.
    /// </summary>
    TextEmbedding EmbedWithModel(string text) => new(Model, Embed(text));
}
