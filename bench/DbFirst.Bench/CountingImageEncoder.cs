using System.Security.Cryptography;

namespace DbFirst.Bench;

/// <summary>
/// An image "model" that costs nothing: the pipeline still re-reads each row's file, but this turns its bytes into a
/// fixed-dimension unit vector without decoding or running CLIP, and counts what it encoded. With it,
/// <c>bench workers</c> measures the queue (claims, writes, Hangfire) that a CPU-bound encoder would hide.
/// </summary>
internal sealed class CountingImageEncoder : IImageEmbedder
{
    /// <summary>The name the benchmark registers as the gallery's active model.</summary>
    public const string Name = "bench-counting";

    private int _encodedRows;
    private int _encodeCalls;

    public string ModelName => Name;

    /// <summary>CLIP ViT-B/32's, so the writes, the HNSW index and the neighbour triggers see real-sized vectors.</summary>
    public int Dimension => 512;

    /// <summary>Rows encoded since start; the benchmark sums these over its processes to catch a row encoded twice.</summary>
    public int EncodedRows => Volatile.Read(ref _encodedRows);

    /// <summary>Batches encoded since start.</summary>
    public int EncodeCalls => Volatile.Read(ref _encodeCalls);

    public float[] Preprocess(string path) => Seed(File.ReadAllBytes(path));

    public float[] Preprocess(SkiaSharp.SKData encoded, string name) => Seed(encoded.AsSpan());

    public float[][] Encode(IReadOnlyList<float[]> pixelBatch)
    {
        Interlocked.Increment(ref _encodeCalls);
        Interlocked.Add(ref _encodedRows, pixelBatch.Count);
        return pixelBatch.Select(pixels => Vector((int)pixels[0])).ToArray();
    }

    // One number per file, from its bytes, so different files get different (well spread) vectors, the same in every
    // process; 24 bits so that a float holds it exactly.
    private static float[] Seed(ReadOnlySpan<byte> bytes)
    {
        var hash = SHA256.HashData(bytes);
        return [hash[0] << 16 | hash[1] << 8 | hash[2]];
    }

    private float[] Vector(int seed)
    {
        var random = new Random(seed);
        var vector = new float[Dimension];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)(random.NextDouble() - 0.5);
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        return vector.Select(v => v / norm).ToArray();
    }
}
