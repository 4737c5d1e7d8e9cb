using DbFirst.Runner;

namespace DbFirst.Tests.Runner;

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("/photos/cat.jpg", "/photos/cat.jpg")]
    [InlineData("a\u001b[31mred\u001b[0m", @"a\e[31mred\e[0m")]
    [InlineData("bell\a cr\r nl\n tab\t", @"bell\a cr\r nl\n tab\t")]
    [InlineData("nul\0 del\u007f c1\u009b", @"nul\x00 del\x7f c1\x9b")]
    [InlineData("gpj.\u202etxt", @"gpj.\u{202e}txt")]
    [InlineData(@"back\slash", @"back\\slash")]
    [InlineData("café 東京", "café 東京")]
    public void Escape_MakesControlCharactersVisible_AndLeavesOtherTextAlone(string raw, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(raw));
    }

    [Fact]
    public void EscapeKeepingLines_KeepsNewlines_ButNotEscapeSequences()
    {
        Assert.Equal("line one\nline \\e]0;title\\a two", TerminalText.EscapeKeepingLines("line one\nline \u001b]0;title\a two"));
    }

    [Fact]
    public void Escape_OfCleanText_ReturnsTheSameString()
    {
        const string clean = "/photos/2024/cat.jpg";

        Assert.Same(clean, TerminalText.Escape(clean));
    }
}
