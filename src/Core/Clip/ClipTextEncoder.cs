using Microsoft.ML.OnnxRuntime;

namespace DbFirst.Clip;

/// <summary>
/// CLIP's text tower on ONNX Runtime: text is tokenized, run through the model, and L2-normalised. Id element
/// type (int32 or int64), input names and whether the sequence length is dynamic are read from the model.
/// </summary>
/// <remarks>
/// With a dynamic sequence axis only the ids up to the end token are fed: CLIP's causal mask means later
/// positions never influence the pooled end-token state, so the result is the same and short queries are faster.
/// </remarks>
internal sealed class ClipTextEncoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _idsName;
    private readonly string? _maskName;
    private readonly bool _idsAreInt64;
    private readonly bool _maskIsInt64;
    private readonly int _fixedLength;
    private readonly string _outputName;

    public ClipTextEncoder(string modelPath, ClipTokenizer tokenizer, int? intraOpThreads = null)
    {
        Tokenizer = tokenizer;
        _session = ClipSessionFactory.Create(modelPath, intraOpThreads);
        var inputs = _session.InputMetadata;
        _idsName = inputs.Keys.FirstOrDefault(n => n.Contains("input_ids", StringComparison.OrdinalIgnoreCase))
            ?? inputs.Keys.FirstOrDefault(n => !n.Contains("mask", StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException("The text model has no token id input.");
        _maskName = inputs.Keys.FirstOrDefault(n => n.Contains("mask", StringComparison.OrdinalIgnoreCase));
        _idsAreInt64 = inputs[_idsName].ElementType == typeof(long);
        _maskIsInt64 = _maskName is not null && inputs[_maskName].ElementType == typeof(long);
        var dims = inputs[_idsName].Dimensions;
        _fixedLength = dims.Length == 2 && dims[1] > 0 ? dims[1] : -1;
        _outputName = ClipSessionFactory.ChooseEmbeddingOutput(_session, "text_embeds", "embedding", "embeddings");
        Dimension = _session.OutputMetadata[_outputName].Dimensions[^1];
    }

    /// <summary>The tokenizer the encoder uses.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>Embedding length declared by the model output (-1 when dynamic).</summary>
    public int Dimension { get; }

    /// <summary>True when the model accepts any sequence length, so inputs are cut after the end token.</summary>
    public bool HasDynamicLength => _fixedLength < 0;

    /// <summary>Encodes one text.</summary>
    public float[] Encode(string text) => Encode([text])[0];

    /// <summary>Encodes a batch of texts in one run; results are in input order and unit length.</summary>
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return EncodeTokens(texts.Select(Tokenizer.Encode).ToList());
    }

    /// <summary>
    /// Encodes already tokenized texts (each padded to the context length). <paramref name="trimToEndToken"/>
    /// false forces the full context even for dynamic-length models (used to check the trimming is exact).
    /// </summary>
    public float[][] EncodeTokens(IReadOnlyList<int[]> tokenIds, bool trimToEndToken = true)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        if (tokenIds.Count == 0)
        {
            return [];
        }

        var context = Tokenizer.ContextLength;
        var length = _fixedLength > 0 ? _fixedLength
            : trimToEndToken ? tokenIds.Max(ids => ClipTokenizer.LengthThroughEndToken(ids))
            : context;
        var n = tokenIds.Count;
        long[] shape = [n, length];

        var ids = new long[n * length];
        var mask = new long[n * length];
        for (var row = 0; row < n; row++)
        {
            var source = tokenIds[row];
            var used = ClipTokenizer.LengthThroughEndToken(source);
            for (var i = 0; i < Math.Min(length, source.Length); i++)
            {
                ids[row * length + i] = source[i];
                mask[row * length + i] = i < used ? 1 : 0;
            }
        }

        var names = new List<string> { _idsName };
        using var idsValue = _idsAreInt64
            ? OrtValue.CreateTensorValueFromMemory(ids, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(ids, v => (int)v), shape);
        var values = new List<OrtValue> { idsValue };
        using var maskValue = _maskName is null ? null
            : _maskIsInt64 ? OrtValue.CreateTensorValueFromMemory(mask, shape)
            : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(mask, v => (int)v), shape);
        if (maskValue is not null)
        {
            names.Add(_maskName!);
            values.Add(maskValue);
        }

        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, names, values, [_outputName]);
        return SplitRows(outputs[0], n);
    }

    /// <summary>Copies an [N, D] float output into N unit-length rows.</summary>
    internal static float[][] SplitRows(OrtValue output, int rows)
    {
        var data = output.GetTensorDataAsSpan<float>();
        var dim = data.Length / rows;
        var result = new float[rows][];
        for (var i = 0; i < rows; i++)
        {
            result[i] = data.Slice(i * dim, dim).ToArray();
            ClipSessionFactory.NormalizeInPlace(result[i]);
        }

        return result;
    }

    public void Dispose() => _session.Dispose();
}
