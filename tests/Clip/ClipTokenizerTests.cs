using System.Text.Json;
using DbFirst.Clip;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Clip;

public sealed class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => ClipTokenizer.FromFiles(
        Path.Combine(TestPaths.ClipFixtures, "vocab.json"), Path.Combine(TestPaths.ClipFixtures, "merges.txt")));

    [Fact]
    public void Encode_ReferenceCases_MatchOpenAiIdsExactly()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ClipFixtures, "tokenizer-cases.json")));
        var failures = new List<string>();

        foreach (var testCase in document.RootElement.EnumerateArray())
        {
            var text = testCase.GetProperty("text").GetString()!;
            var expected = testCase.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
            var padded = expected.Take(ClipTokenizer.DefaultContextLength).ToList();
            padded.AddRange(Enumerable.Repeat(0, ClipTokenizer.DefaultContextLength - padded.Count));

            var actual = Tokenizer.Value.Encode(text);

            if (!actual.SequenceEqual(padded))
            {
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(',', expected)}], got [{string.Join(',', actual.Take(ClipTokenizer.LengthThroughEndToken(actual)))}]");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Encode_TextSpellingSpecialTokens_GivesTheirIdsLikeTheReference()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ClipFixtures, "special-token-cases.json")));

        foreach (var testCase in document.RootElement.EnumerateArray())
        {
            var expected = testCase.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

            var actual = Tokenizer.Value.Encode(testCase.GetProperty("text").GetString()!);

            Assert.Equal(expected, actual.Take(expected.Length));
            Assert.All(actual.Skip(expected.Length), id => Assert.Equal(0, id));
        }
    }

    [Fact]
    public void Encode_OverlongText_TruncatesTo77WithEndTokenLast()
    {
        var text = string.Join(' ', Enumerable.Repeat("photo", 200));

        var ids = Tokenizer.Value.Encode(text);

        Assert.Equal(77, ids.Length);
        Assert.Equal(ClipTokenizer.StartToken, ids[0]);
        Assert.Equal(ClipTokenizer.EndToken, ids[76]);
        Assert.DoesNotContain(0, ids);
    }

    [Fact]
    public void Encode_EmptyText_IsStartEndThenZeros()
    {
        var ids = Tokenizer.Value.Encode("   ");

        Assert.Equal([ClipTokenizer.StartToken, ClipTokenizer.EndToken], ids.Take(2));
        Assert.All(ids.Skip(2), id => Assert.Equal(0, id));
    }

    [Fact]
    public void FromTokenizerJson_SameVocabulary_GivesSameIds()
    {
        var dir = Directory.CreateTempSubdirectory("dbfirst-tok-");
        try
        {
            var vocab = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ClipFixtures, "vocab.json"))).RootElement;
            var merges = File.ReadLines(Path.Combine(TestPaths.ClipFixtures, "merges.txt"))
                .Where(l => !l.StartsWith("#version", StringComparison.Ordinal) && l.Length > 0).ToList();
            var json = JsonSerializer.Serialize(new { model = new { type = "BPE", vocab, merges } });
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, json);

            var fromJson = ClipTokenizer.FromTokenizerJson(path);

            Assert.Equal(Tokenizer.Value.Encode("It's the kids' toys, isn't it?"), fromJson.Encode("It's the kids' toys, isn't it?"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
