using System.Globalization;
using System.Text;

namespace DbFirst.Runner;

/// <summary>
/// Makes text that came from outside the program (file names, error messages that quote them, database values,
/// Claude's answers) safe to print on a terminal: control characters become visible escapes, so a file named
/// with ESC sequences cannot recolour, retitle or rewrite the operator's terminal, and one with CR or newline cannot
/// fake output lines. Every console line that carries such text goes through here; <c>--json</c> output does not
/// (JSON escapes control characters itself, and must stay exact).
/// </summary>
internal static class TerminalText
{
    /// <summary>
    /// Escapes C0 and C1 control characters, DEL and the Unicode bidirectional overrides (which reorder what is
    /// shown), and the backslash itself, so the escaped form reads back unambiguously: ESC is <c>\e</c>, newline
    /// <c>\n</c>, a literal backslash <c>\\</c>.
    /// </summary>
    public static string Escape(string? text) => Escape(text, keepNewlines: false);

    /// <summary>As <see cref="Escape(string?)"/>, but newlines stay: for multi-line prose such as Claude's answers.</summary>
    public static string EscapeKeepingLines(string? text) => Escape(text, keepNewlines: true);

    private static string Escape(string? text, bool keepNewlines)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        var first = IndexOfUnsafe(text, keepNewlines);
        if (first < 0)
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (!NeedsEscape(c, keepNewlines))
            {
                escaped.Append(c);
                continue;
            }

            escaped.Append(c switch
            {
                '\\' => @"\\",
                '\a' => @"\a",
                '\b' => @"\b",
                '\t' => @"\t",
                '\n' => @"\n",
                '\v' => @"\v",
                '\f' => @"\f",
                '\r' => @"\r",
                '\u001b' => @"\e",
                < '\u0100' => string.Create(CultureInfo.InvariantCulture, $@"\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $@"\u{{{(int)c:x4}}}"),
            });
        }

        return escaped.ToString();
    }

    private static int IndexOfUnsafe(string text, bool keepNewlines)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (NeedsEscape(text[i], keepNewlines))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool NeedsEscape(char c, bool keepNewlines) => c switch
    {
        '\n' => !keepNewlines,
        '\\' => true,
        < '\u0020' or (>= '\u007f' and < '\u00a0') => true,
        '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069') => true,
        _ => false,
    };
}
