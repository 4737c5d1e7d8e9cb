namespace DbFirst.Embedding;

/// <summary>
/// What the embedding pipeline needs from an image model: CLIP's preprocessor and image encoder behind one seam,
/// so tests can count encoder calls and the benchmark can measure the pipeline's own overhead.
/// </summary>
internal interface IImageEmbedder
{
    /// <summary>The model's name in <c>gallery.clip_models</c>: the pipeline embeds for the registered model of this name.</summary>
    string ModelName { get; }

    /// <summary>Length of every embedding <see cref="Encode"/> returns.</summary>
    int Dimension { get; }

    /// <summary>Whether this is the bundled test model rather than a real CLIP.</summary>
    bool IsTestModel { get; }

    /// <summary>Decodes and preprocesses one file. Called from many threads at once.</summary>
    /// <exception cref="Imaging.ImageDecodeException">The file can never be decoded (permanent).</exception>
    /// <exception cref="IOException">The file could not be read now (transient).</exception>
    float[] Preprocess(string path);

    /// <summary>Decodes and preprocesses an image already read (by <see cref="Files.IngestedFileReader"/>). Called from many threads at once.</summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="name">The file's path, for errors.</param>
    /// <exception cref="Imaging.ImageDecodeException">The image can never be decoded (permanent).</exception>
    float[] Preprocess(SkiaSharp.SKData encoded, string name);

    /// <summary>Encodes a batch of preprocessed images, one embedding per input, in order. Called from one thread at a time.</summary>
    float[][] Encode(IReadOnlyList<float[]> pixelBatch);
}
