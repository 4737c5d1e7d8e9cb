using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// The gallery page's HTML: one layout, encoded text everywhere (file names and Claude's descriptions are
/// untrusted), forms that carry the antiforgery token, and no script at all (the CSP forbids it).
/// </summary>
internal static class GalleryHtml
{
    /// <summary>No script may run, nothing may be framed, images and forms stay on this server.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private const string Style = """
        body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#222}
        header{background:#263238;color:#fff;padding:.6rem 1.5rem;display:flex;gap:1.5rem;align-items:center}
        header a{color:#fff;text-decoration:none}header b{font-size:1.1rem}
        main{padding:1rem 1.5rem}h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.5rem}
        form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
        form.search label{display:flex;flex-direction:column;font-size:.8rem;color:#555}
        input,select,button{font:inherit;padding:.3rem .5rem}input[name=q]{min-width:22rem}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:1rem}
        figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem}
        figure img{width:100%;height:200px;object-fit:contain;background:#eee;display:block}
        figcaption{font-size:.8rem;word-break:break-all;margin-top:.4rem}
        .desc{color:#444;font-style:italic;word-break:normal}.muted{color:#777}
        .view img{max-width:100%;max-height:80vh;object-fit:contain;background:#eee}
        table{border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
        .notice{background:#fff8e1;border:1px solid #ffe082;padding:.5rem .8rem;border-radius:4px}
        .error{background:#ffebee;border:1px solid #ef9a9a;padding:.5rem .8rem;border-radius:4px}
        .answer{background:#fff;border:1px solid #ddd;padding:.8rem;white-space:pre-wrap}
        .actions{display:flex;gap:.5rem;margin:.8rem 0}.pages{margin:1rem 0;display:flex;gap:1rem}
        """;

    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    /// <summary>A whole page around <paramref name="body"/> (already HTML).</summary>
    public static string Page(string title, string body)
    {
        var html = new StringBuilder(body.Length + 4096);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(Encode(title)).Append(" · DbFirst gallery</title><style>").Append(Style).Append("</style></head><body>\n")
            .Append("<header><b><a href=\"/\">DbFirst gallery</a></b><a href=\"/\">Search</a><a href=\"/operator\">Operator</a>")
            .Append("<a href=\"/hangfire\">Jobs</a></header>\n<main>\n")
            .Append(body)
            .Append("\n</main></body></html>\n");
        return html.ToString();
    }

    /// <summary>A page as the response, with the headers that keep a browser from running or framing anything.</summary>
    public static IResult Result(HttpContext http, string title, string body, int statusCode = StatusCodes.Status200OK)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        // Not no-referrer: under it Chromium sends "Origin: null" with the page's own form posts, which the Origin check refuses.
        headers["Referrer-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
        return Results.Content(Page(title, body), "text/html; charset=utf-8", Encoding.UTF8, statusCode);
    }

    /// <summary>The hidden field every form of the page posts, so a POST without it is refused.</summary>
    public static string AntiforgeryField(IAntiforgery antiforgery, HttpContext http)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        return $"<input type=\"hidden\" name=\"{Encode(tokens.FormFieldName)}\" value=\"{Encode(tokens.RequestToken)}\">";
    }

    /// <summary>One thumbnail figure linking to the image's page.</summary>
    public static void Figure(StringBuilder html, int rank, long id, string path, double? distance, ImageDetails? details)
    {
        var idText = id.ToString(CultureInfo.InvariantCulture);
        html.Append("<figure data-id=\"").Append(idText).Append("\"><a href=\"/image/").Append(idText).Append("\">")
            .Append("<img loading=\"lazy\" src=\"/thumb/").Append(idText).Append("?size=320\" alt=\"").Append(Encode(Path.GetFileName(path))).Append("\"></a>")
            .Append("<figcaption>");
        if (rank > 0)
        {
            html.Append("<b>").Append(rank.ToString(CultureInfo.InvariantCulture)).Append(".</b> ");
        }

        html.Append("<a href=\"/image/").Append(idText).Append("\" class=\"path\">").Append(Encode(path)).Append("</a><br>");
        if (distance is { } d)
        {
            html.Append("distance ").Append(d.ToString("F4", CultureInfo.InvariantCulture)).Append(" · ");
        }

        html.Append("taken ").Append(Time(details?.TakenAt));
        if (details?.EmbeddingModel is { } model)
        {
            html.Append(" · ").Append(Encode(model));
        }

        if (details?.Description is { } description)
        {
            html.Append("<br><span class=\"desc\">").Append(Encode(description.Length > 280 ? description[..280] + "…" : description)).Append("</span>");
        }

        html.Append("</figcaption></figure>\n");
    }
}
