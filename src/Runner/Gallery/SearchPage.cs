using System.Globalization;
using System.Text;
using DbFirst.Claude;
using DbFirst.Search;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// <c>GET /</c>: the search box (text to images through <see cref="GallerySearch"/>, as <c>dbfirst search</c>), the
/// ask box, and the results, <see cref="PageSize"/> per page.
/// </summary>
internal static class SearchPage
{
    public const int PageSize = 24;

    /// <summary>The choices of k the page offers.</summary>
    public static readonly IReadOnlyList<int> KChoices = [12, 24, 48, 96, 200];

    private const int DefaultK = 24;
    private const int MaxQueryBytes = 2000;

    public static async Task<IResult> GetAsync(HttpContext http)
    {
        var query = SearchQuery.Parse(http.Request.Query);
        var html = new StringBuilder();
        html.Append("<h1>Search the gallery</h1>\n");
        AppendSearchForm(html, query);
        AppendAskForm(html, http, question: "");
        if (query.Text.Length == 0)
        {
            html.Append("<p class=\"muted\">Type what you are looking for, e.g. <i>a red photo</i> or <i>a dog on a beach</i>; click an image for its details, similar images and near-duplicates.</p>");
            return GalleryHtml.Result(http, "Search", html.ToString());
        }

        try
        {
            query.Validate();
            var filter = query.Filter();
            var embedder = http.RequestServices.GetRequiredService<ITextEmbedder>();
            var wanted = Math.Min(query.K, (query.Page + 1) * PageSize);
            var text = embedder.EmbedWithModel(query.Text);
            var hits = await http.RequestServices.GetRequiredService<GallerySearch>()
                .SearchByTextEmbeddingAsync(text, wanted, filter, http.RequestAborted);
            var shown = hits.Skip(query.Page * PageSize).ToList();
            var details = await http.RequestServices.GetRequiredService<GalleryPageStore>().ByIdsAsync(shown.Select(h => h.Id).ToList(), http.RequestAborted);
            html.Append("<h2>").Append(GalleryHtml.Encode($"\u201c{query.Text}\u201d")).Append("</h2>\n<p class=\"muted\">")
                .Append(hits.Count == 0 ? "No embedded image matches." : $"Results {query.Page * PageSize + 1}–{query.Page * PageSize + shown.Count} of the {query.K} nearest, nearest first (cosine distance), model {GalleryHtml.Encode(text.Model)}.")
                .Append("</p>\n<div class=\"grid\" id=\"results\">\n");
            for (var i = 0; i < shown.Count; i++)
            {
                GalleryHtml.Figure(html, query.Page * PageSize + i + 1, shown[i].Id, shown[i].Path, shown[i].Distance, details.GetValueOrDefault(shown[i].Id));
            }

            html.Append("</div>\n<div class=\"pages\">");
            if (query.Page > 0)
            {
                html.Append("<a href=\"/?").Append(GalleryHtml.Encode(query.WithPage(query.Page - 1))).Append("\">← previous</a>");
            }

            if (hits.Count == wanted && wanted < query.K)
            {
                html.Append("<a href=\"/?").Append(GalleryHtml.Encode(query.WithPage(query.Page + 1))).Append("\">next →</a>");
            }

            html.Append("</div>");
            return GalleryHtml.Result(http, query.Text, html.ToString());
        }
        catch (GalleryException exception)
        {
            html.Append("<p class=\"error\">").Append(GalleryHtml.Encode(exception.Message)).Append("</p>");
            return GalleryHtml.Result(http, "Search", html.ToString(), StatusCodes.Status400BadRequest);
        }
    }

    /// <summary><c>POST /ask</c>: the question through <c>dbfirst ask</c>'s code; the answer above the images it saw.</summary>
    public static async Task<IResult> AskAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var question = form["question"].ToString().Trim();
        var k = int.TryParse(form["k"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 3;
        var html = new StringBuilder("<h1>Ask about the gallery</h1>\n");
        AppendSearchForm(html, SearchQuery.Empty);
        AppendAskForm(html, http, question);
        var asker = http.RequestServices.GetRequiredService<GalleryAskService>();
        try
        {
            if (Encoding.UTF8.GetByteCount(question) > MaxQueryBytes)
            {
                throw new GalleryException($"the question is longer than {MaxQueryBytes} bytes");
            }

            var answer = await asker.AskAsync(question, k, http.RequestAborted);
            html.Append("<h2>").Append(GalleryHtml.Encode(question)).Append("</h2>\n<div class=\"answer\" id=\"answer\">")
                .Append(GalleryHtml.Encode(answer.Answer)).Append("</div>\n<p class=\"muted\">")
                .Append(answer.Cached ? "Answered from gallery.ask_cache (no call made)." : $"{answer.InputTokens} input + {answer.OutputTokens} output tokens.")
                .Append(" Model ").Append(GalleryHtml.Encode(answer.Model)).Append(".</p>");
            foreach (var warning in answer.Warnings)
            {
                html.Append("<p class=\"notice\">").Append(GalleryHtml.Encode(warning)).Append("</p>");
            }

            var details = await http.RequestServices.GetRequiredService<GalleryPageStore>().ByIdsAsync(answer.Images.Select(i => i.Id).ToList(), http.RequestAborted);
            html.Append("<div class=\"grid\">\n");
            for (var i = 0; i < answer.Images.Count; i++)
            {
                var image = answer.Images[i];
                GalleryHtml.Figure(html, i + 1, image.Id, image.Path, image.Distance, details.GetValueOrDefault(image.Id));
            }

            html.Append("</div>");
            return GalleryHtml.Result(http, question, html.ToString());
        }
        catch (GalleryException exception)
        {
            html.Append("<p class=\"error\" id=\"answer\">").Append(GalleryHtml.Encode(exception.Message)).Append("</p>");
            return GalleryHtml.Result(http, "Ask", html.ToString(), StatusCodes.Status400BadRequest);
        }
    }

    private static void AppendSearchForm(StringBuilder html, SearchQuery query)
    {
        html.Append("<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">")
            .Append("<label>Text<input name=\"q\" value=\"").Append(GalleryHtml.Encode(query.Text)).Append("\" placeholder=\"a red photo\" autofocus></label>")
            .Append("<label>k<select name=\"k\">");
        foreach (var k in KChoices)
        {
            html.Append("<option").Append(k == query.K ? " selected" : "").Append('>').Append(k.ToString(CultureInfo.InvariantCulture)).Append("</option>");
        }

        html.Append("</select></label>")
            .Append("<label>Folder<input name=\"folder\" value=\"").Append(GalleryHtml.Encode(query.Folder)).Append("\" placeholder=\"/photos/2024\"></label>")
            .Append("<label>Taken from<input type=\"date\" name=\"from\" value=\"").Append(GalleryHtml.Encode(query.From)).Append("\"></label>")
            .Append("<label>Taken before<input type=\"date\" name=\"to\" value=\"").Append(GalleryHtml.Encode(query.To)).Append("\"></label>")
            .Append("<button type=\"submit\">Search</button></form>\n");
    }

    private static void AppendAskForm(StringBuilder html, HttpContext http, string question)
    {
        var asker = http.RequestServices.GetRequiredService<GalleryAskService>();
        if (!asker.IsConfigured)
        {
            html.Append("<p class=\"notice\" id=\"ask-off\">Ask is off: start <code>dbfirst serve</code> with <code>ANTHROPIC_API_KEY</code> set to ask Claude about the images a search finds.</p>\n");
            return;
        }

        html.Append("<form class=\"search\" method=\"post\" action=\"/ask\">")
            .Append(GalleryHtml.AntiforgeryField(http.RequestServices.GetRequiredService<IAntiforgery>(), http))
            .Append("<label>Ask Claude about the nearest images<input name=\"question\" value=\"").Append(GalleryHtml.Encode(question)).Append("\" placeholder=\"which of these show a beach?\"></label>")
            .Append("<label>images<select name=\"k\"><option>1</option><option selected>3</option><option>5</option><option>10</option></select></label>")
            .Append("<button type=\"submit\">Ask</button></form>\n");
    }
}
