using DbFirst.Clip;

namespace DbFirst.Embedding;

/// <summary>The real <see cref="IImageEmbedder"/>: a loaded <see cref="ClipModel"/>'s preprocessor and image encoder.</summary>
internal sealed class ClipImageEmbedder : IImageEmbedder
{
    private readonly ClipModel _model;

    /// <summary>Wraps <paramref name="model"/>, which the caller keeps and disposes.</summary>
    public ClipImageEmbedder(ClipModel model) => _model = model;

    public string ModelName => _model.Name;

    public int Dimension => _model.Dimension;


    public float[] Preprocess(string path) => _model.Preprocessor.Preprocess(path);

    public float[] Preprocess(SkiaSharp.SKData encoded, string name) => _model.Preprocessor.Preprocess(encoded, name);

    public float[][] Encode(IReadOnlyList<float[]> pixelBatch) => _model.ImageEncoder.Encode(pixelBatch);
}
