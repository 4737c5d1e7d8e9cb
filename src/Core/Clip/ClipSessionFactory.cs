using Microsoft.ML.OnnxRuntime;

namespace DbFirst.Clip;

/// <summary>Builds ONNX Runtime sessions tuned for batch throughput on the CPU.</summary>
internal static class ClipSessionFactory
{
    public static InferenceSession Create(string modelPath, int? intraOpThreads = null)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads ?? Environment.ProcessorCount,
            InterOpNumThreads = 1,
        };
        return new InferenceSession(modelPath, options);
    }

    /// <summary>Picks the output that carries the embedding: a known name first, else the first 2-D float output.</summary>
    public static string ChooseEmbeddingOutput(InferenceSession session, params string[] preferred)
    {
        foreach (var name in preferred)
        {
            if (session.OutputMetadata.ContainsKey(name))
            {
                return name;
            }
        }

        foreach (var (name, meta) in session.OutputMetadata)
        {
            if (meta.ElementType == typeof(float) && meta.Dimensions.Length == 2)
            {
                return name;
            }
        }

        throw new InvalidOperationException("The model has no 2-D float output to use as the embedding.");
    }

    public static void NormalizeInPlace(Span<float> vector)
    {
        var sum = 0.0;
        foreach (var v in vector)
        {
            sum += v * (double)v;
        }

        var norm = Math.Sqrt(sum);
        if (norm > 0)
        {
            var scale = (float)(1.0 / norm);
            for (var i = 0; i < vector.Length; i++)
            {
                vector[i] *= scale;
            }
        }
    }
}
