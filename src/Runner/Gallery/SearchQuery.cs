using System.Globalization;
using DbFirst.Search;
using Microsoft.AspNetCore.Http;

namespace DbFirst.Runner.Gallery;

/// <summary>The search form's fields as typed (kept as text so the form shows them back unchanged).</summary>
internal sealed record SearchQuery(string Text, int K, string Folder, string From, string To, int Page)
{
    public static readonly SearchQuery Empty = new("", 24, "", "", "", 0);

    public static SearchQuery Parse(IQueryCollection query) => new(
        query["q"].ToString().Trim(),
        int.TryParse(query["k"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) ? k : Empty.K,
        query["folder"].ToString().Trim(),
        query["from"].ToString().Trim(),
        query["to"].ToString().Trim(),
        int.TryParse(query["page"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var page) ? page : 0);

    /// <exception cref="GalleryException">A field is out of range.</exception>
    public void Validate()
    {
        if (System.Text.Encoding.UTF8.GetByteCount(Text) > 2000)
        {
            throw new GalleryException("the search text is longer than 2000 bytes");
        }

        if (!SearchPage.KChoices.Contains(K))
        {
            throw new GalleryException($"k must be one of {string.Join(", ", SearchPage.KChoices)}");
        }

        if (Page < 0 || Page * SearchPage.PageSize >= K)
        {
            throw new GalleryException("no such page of results");
        }
    }

    /// <exception cref="GalleryException">A date does not parse.</exception>
    public SearchFilter? Filter()
    {
        var from = Date(From, "from");
        var to = Date(To, "to");
        return Folder.Length == 0 && from is null && to is null ? null : new SearchFilter(Folder.Length == 0 ? null : Folder, from, to);
    }

    /// <summary>The query string of this search at another page.</summary>
    public string WithPage(int page) => QueryString.Create(new Dictionary<string, string?>
    {
        ["q"] = Text,
        ["k"] = K.ToString(CultureInfo.InvariantCulture),
        ["folder"] = Folder,
        ["from"] = From,
        ["to"] = To,
        ["page"] = page.ToString(CultureInfo.InvariantCulture),
    }).ToUriComponent().TrimStart('?');

    private static DateTimeOffset? Date(string text, string field) =>
        text.Length == 0 ? null
        : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value
        : throw new GalleryException($"'{field}' is not a date (use YYYY-MM-DD)");
}
