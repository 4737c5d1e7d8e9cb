using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DbFirst.Clip;

/// <summary>
/// CLIP's byte-level BPE tokenizer (OpenAI <c>SimpleTokenizer</c>): cleaned, lower-cased text split by CLIP's
/// pre-tokenizer pattern, BPE with the <c>&lt;/w&gt;</c> end-of-word suffix, wrapped in start/end tokens,
/// truncated and zero-padded to the context length.
/// </summary>
internal sealed partial class ClipTokenizer
{
    /// <summary>CLIP's context length (OpenAI <c>clip.tokenize(context_length=77)</c>).</summary>
    public const int DefaultContextLength = 77;

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c> in CLIP's vocabulary.</summary>
    public const int StartToken = 49406;

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c> in CLIP's vocabulary.</summary>
    public const int EndToken = 49407;

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int contextLength)
    {
        _bpe = bpe;
        ContextLength = contextLength;
    }

    /// <summary>Number of ids <see cref="Encode"/> returns.</summary>
    public int ContextLength { get; }

    /// <summary>Loads the tokenizer from a Hugging Face style <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    public static ClipTokenizer FromFiles(string vocabPath, string mergesPath, int contextLength = DefaultContextLength)
    {
        var options = new BpeOptions(vocabPath, mergesPath)
        {
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            Normalizer = ClipTextNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(ClipPattern(), specialTokens: null),
        };
        return new ClipTokenizer(BpeTokenizer.Create(options), contextLength);
    }

    /// <summary>
    /// Loads the tokenizer from a Hugging Face <c>tokenizer.json</c> by taking its <c>model.vocab</c> and
    /// <c>model.merges</c>; the pre-tokenizer and normalizer are CLIP's regardless of what the file declares.
    /// </summary>
    public static ClipTokenizer FromTokenizerJson(string tokenizerJsonPath, int contextLength = DefaultContextLength)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(tokenizerJsonPath));
        var model = document.RootElement.GetProperty("model");
        var vocabulary = model.GetProperty("vocab").EnumerateObject()
            .Select(p => new KeyValuePair<string, int>(p.Name, p.Value.GetInt32()))
            .ToList();
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.Array
                ? $"{m[0].GetString()} {m[1].GetString()}"
                : m.GetString()!)
            .ToList();
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            Normalizer = ClipTextNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(ClipPattern(), specialTokens: null),
        };
        return new ClipTokenizer(BpeTokenizer.Create(options), contextLength);
    }

    /// <summary>
    /// Token ids for <paramref name="text"/>: start token, BPE ids, end token, zero padding up to
    /// <see cref="ContextLength"/>; overlong text is cut so the end token is still last.
    /// </summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new int[ContextLength];
        ids[0] = StartToken;
        var bpeIds = _bpe.EncodeToIds(text);
        var count = Math.Min(bpeIds.Count, ContextLength - 2);
        for (var i = 0; i < count; i++)
        {
            ids[i + 1] = bpeIds[i];
        }

        ids[count + 1] = EndToken;
        return ids;
    }

    /// <summary>Number of leading ids up to and including the end token.</summary>
    public static int LengthThroughEndToken(ReadOnlySpan<int> ids)
    {
        var end = ids.IndexOf(EndToken);
        return end < 0 ? ids.Length : end + 1;
    }

    // OpenAI SimpleTokenizer's pattern (compiled with re.IGNORECASE); the special tokens never survive
    // normalisation into ids here because they are added by Encode, but the alternatives keep splits identical.
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipPattern();
}
