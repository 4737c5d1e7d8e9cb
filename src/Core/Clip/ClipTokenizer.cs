using System.Collections.Frozen;
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
        return new ClipTokenizer(BpeTokenizer.Create(WithClipRules(new BpeOptions(vocabPath, mergesPath))), contextLength);
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
        return new ClipTokenizer(BpeTokenizer.Create(WithClipRules(new BpeOptions(vocabulary) { Merges = merges })), contextLength);
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

    // SimpleTokenizer seeds its BPE cache with both markers, so text that spells one (after lower-casing)
    // becomes that single id rather than its characters; the pre-tokenizer must split them out first.
    private static readonly FrozenDictionary<string, int> SpecialTokens = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["<|startoftext|>"] = StartToken,
        ["<|endoftext|>"] = EndToken,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static BpeOptions WithClipRules(BpeOptions options)
    {
        options.ByteLevel = true;
        options.EndOfWordSuffix = "</w>";
        options.Normalizer = ClipTextNormalizer.Instance;
        options.PreTokenizer = new RegexPreTokenizer(ClipPattern(), SpecialTokens);
        options.SpecialTokens = SpecialTokens;
        return options;
    }

    // OpenAI SimpleTokenizer's pattern (compiled with re.IGNORECASE).
    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase)]
    private static partial Regex ClipPattern();
}
