using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DbFirst.Clip;
using DbFirst.Embedding;
using DbFirst.Imaging;

namespace DbFirst.Tests.Embedding;

/// <summary>
/// A stand-in image model that counts what it is asked to do. It reads each file (so missing files fail as I/O
/// errors), decodes real images with CLIP's preprocessor when asked to, and treats files starting with "BAD" as
/// undecodable; its "embedding" is derived from the file's bytes.
/// </summary>
internal sealed class CountingEmbedder : IImageEmbedder
{
    private readonly ClipImagePreprocessor? _preprocessor;
    private readonly ConcurrentDictionary<string, int> _encodedPaths = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<float[], string> _pathsByTensor = new();
    private int _encodeCalls;
    private int _encodedRows;

    public CountingEmbedder(string modelName = "counting-fake", bool decodeImages = false, TimeSpan? encodeDelay = null)
    {
        ModelName = modelName;
        EncodeDelay = encodeDelay ?? TimeSpan.Zero;
        _preprocessor = decodeImages ? new ClipImagePreprocessor(ClipPreprocessConfig.OpenAiDefault) : null;
    }

    public string ModelName { get; }

    public int Dimension => 512;


    public TimeSpan EncodeDelay { get; }

    /// <summary>Thrown by the next <see cref="Encode"/> call, once.</summary>
    public Exception? FailNextEncode { get; set; }

    public int EncodeCalls => _encodeCalls;

    public int EncodedRows => _encodedRows;

    /// <summary>How many times each file was encoded.</summary>
    public IReadOnlyDictionary<string, int> EncodedPaths => _encodedPaths;

    public float[] Preprocess(string path) => Preprocess(File.ReadAllBytes(path), path);

    public float[] Preprocess(SkiaSharp.SKData encoded, string name) => Preprocess(encoded.ToArray(), name);

    private float[] Preprocess(byte[] bytes, string path)
    {
        if (bytes.AsSpan().StartsWith("BAD"u8))
        {
            throw new ImageDecodeException(path, "not an image");
        }

        float[] tensor;
        if (_preprocessor is not null)
        {
            using var data = SkiaSharp.SKData.CreateCopy(bytes);
            tensor = _preprocessor.Preprocess(data, path);
        }
        else
        {
            var hash = SHA256.HashData(bytes);
            tensor = hash.Select(b => (float)b).ToArray();
        }

        // Remember which file a tensor came from, so Encode can count per file.
        _pathsByTensor.AddOrUpdate(tensor, path);
        return tensor;
    }

    public float[][] Encode(IReadOnlyList<float[]> pixelBatch)
    {
        if (FailNextEncode is { } failure)
        {
            FailNextEncode = null;
            throw failure;
        }

        Interlocked.Increment(ref _encodeCalls);
        Interlocked.Add(ref _encodedRows, pixelBatch.Count);
        if (EncodeDelay > TimeSpan.Zero)
        {
            Thread.Sleep(EncodeDelay);
        }

        var result = new float[pixelBatch.Count][];
        for (var i = 0; i < pixelBatch.Count; i++)
        {
            if (_pathsByTensor.TryGetValue(pixelBatch[i], out var path))
            {
                _encodedPaths.AddOrUpdate(path, 1, (_, n) => n + 1);
            }

            result[i] = Embed(pixelBatch[i]);
        }

        return result;
    }

    private static float[] Embed(float[] pixels)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(',', pixels.Take(64))));
        var vector = new float[512];
        for (var i = 0; i < vector.Length; i++)
        {
            vector[i] = seed[i % seed.Length] - 127.5f + i % 7;
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        return vector.Select(v => v / norm).ToArray();
    }
}
