using Microsoft.ML.OnnxRuntime;

namespace DbFirst.Clip;

/// <summary>
/// CLIP's image tower on ONNX Runtime: batches of preprocessed CHW tensors in, L2-normalised embeddings out.
/// One session, shared by all threads (ONNX Runtime's <c>Run</c> is thread-safe).
/// </summary>
internal sealed class ClipImageEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;

    public ClipImageEncoder(string modelPath, int imageSize, int? intraOpThreads = null)
    {
        _session = ClipSessionFactory.Create(modelPath, intraOpThreads);
        _inputName = _session.InputMetadata.Keys.First();
        _outputName = ClipSessionFactory.ChooseEmbeddingOutput(_session, "image_embeds", "embedding", "embeddings");
        var inputDims = _session.InputMetadata[_inputName].Dimensions;
        ImageSize = inputDims.Length == 4 && inputDims[3] > 0 ? inputDims[3] : imageSize;
        Dimension = _session.OutputMetadata[_outputName].Dimensions[^1];
    }

    /// <summary>Embedding length as declared by the model output (-1 when the model leaves it dynamic).</summary>
    public int Dimension { get; }

    /// <summary>Side of the square input the model takes.</summary>
    public int ImageSize { get; }

    /// <summary>Encodes one preprocessed image (3 × size × size floats).</summary>
    public float[] Encode(float[] pixels) => Encode([pixels])[0];

    /// <summary>Encodes a batch of preprocessed images in one run; results are in input order and unit length.</summary>
    public float[][] Encode(IReadOnlyList<float[]> pixelBatch)
    {
        ArgumentNullException.ThrowIfNull(pixelBatch);
        if (pixelBatch.Count == 0)
        {
            return [];
        }

        var plane = 3 * ImageSize * ImageSize;
        var batch = new float[pixelBatch.Count * plane];
        for (var i = 0; i < pixelBatch.Count; i++)
        {
            if (pixelBatch[i].Length != plane)
            {
                throw new ArgumentException($"Image {i} has {pixelBatch[i].Length} floats; the model takes {plane}.", nameof(pixelBatch));
            }

            pixelBatch[i].CopyTo(batch, i * plane);
        }

        using var input = OrtValue.CreateTensorValueFromMemory(batch, [pixelBatch.Count, 3, ImageSize, ImageSize]);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
        return ClipTextEncoder.SplitRows(outputs[0], pixelBatch.Count);
    }

    public void Dispose() => _session.Dispose();
}
