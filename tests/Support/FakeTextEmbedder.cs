using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using DbFirst.Search;

namespace DbFirst.Tests.Support;

/// <summary>
/// A deterministic stand-in for CLIP's text encoder: texts it was given vectors for map to them, any
/// other text to a unit vector seeded by the text's hash. Counts calls, so tests can see the cache work.
/// </summary>
public sealed class FakeTextEmbedder : ITextEmbedder
{
    private readonly ConcurrentDictionary<string, float[]> _known = new(StringComparer.Ordinal);
    private int _calls;

    public FakeTextEmbedder(int dimensions = 512) => Dimensions = dimensions;

    public int Dimensions { get; }

    public string Model => "fake-text-encoder";

    public int Calls => Volatile.Read(ref _calls);

    public void Teach(string text, float[] embedding) => _known[text] = embedding;

    public float[] Embed(string text)
    {
        Interlocked.Increment(ref _calls);
        if (_known.TryGetValue(text, out var known))
        {
            return known;
        }

        var random = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0));
        var v = Enumerable.Range(0, Dimensions).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var norm = (float)Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
