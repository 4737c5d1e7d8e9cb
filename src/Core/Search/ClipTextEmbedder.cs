using DbFirst.Clip;

namespace DbFirst.Search;

/// <summary>CLIP's text encoder behind <see cref="ITextEmbedder"/>: what <c>dbfirst search</c> and <c>/embed/text</c> use.</summary>
internal sealed class ClipTextEmbedder : ITextEmbedder
{
    private readonly ClipModel _model;

    public ClipTextEmbedder(ClipModel model) => _model = model;

    public string Model => _model.Name;

    public float[] Embed(string text) => _model.TextEncoder.Encode(text);
}
