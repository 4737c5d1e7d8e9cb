using System.Net;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DbFirst.Clip;

/// <summary>
/// CLIP's text clean-up before BPE: HTML entities unescaped, runs of whitespace collapsed to one space,
/// ends trimmed, lower-cased (OpenAI's <c>basic_clean</c> + <c>whitespace_clean</c> + <c>lower()</c>).
/// </summary>
/// <remarks>
/// Written by hand because Microsoft.ML.Tokenizers only ships a lower-case normalizer; ftfy's mojibake
/// repair is not reproduced (it changes nothing for well-formed UTF-8 text).
/// </remarks>
internal sealed partial class ClipTextNormalizer : Normalizer
{
    public static ClipTextNormalizer Instance { get; } = new();

    public override string Normalize(string original) => Clean(original);

    public override string Normalize(ReadOnlySpan<char> original) => Clean(original.ToString());

    private static string Clean(string text)
    {
        // OpenAI's basic_clean unescapes twice (html.unescape(html.unescape(text))).
        var unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return Whitespace().Replace(unescaped, " ").Trim().ToLowerInvariant();
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
