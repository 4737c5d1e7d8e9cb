using System.Globalization;
using System.Text;
using DbFirst.Clip;
using DbFirst.Embedding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// <c>GET /operator</c>: <c>dbfirst status</c>'s counts, the model, the index, pgvector's version, the failed
/// images with their errors (keyset-paged), and links into the Hangfire dashboard.
/// </summary>
internal static class OperatorPage
{
    private const int FailedPageSize = 50;

    public static async Task<IResult> GetAsync(HttpContext http)
    {
        var services = http.RequestServices;
        var (status, readAt) = await services.GetRequiredService<CachedGalleryStatus>().ReadAsync(http.RequestAborted);
        var store = services.GetRequiredService<GalleryPageStore>();
        var model = services.GetRequiredService<ClipModel>();
        var after = long.TryParse(http.Request.Query["after"], NumberStyles.Integer, CultureInfo.InvariantCulture, out var a) ? a : 0;
        var failed = await store.FailedAsync(after, FailedPageSize, http.RequestAborted);
        var pgvector = await store.PgvectorAsync(http.RequestAborted);

        var html = new StringBuilder("<h1>Operator view</h1>\n<table id=\"status\">");
        Row(html, "rows", GalleryHtml.Number(status.Rows));
        Row(html, "embedded", GalleryHtml.Number(status.Embedded) + (status.ActiveModel is { } active ? $" by the active model {active}" : ""));
        Row(html, "pending", GalleryHtml.Number(status.Pending)
            + (status.EmbeddedWithOtherModel > 0 ? $" ({GalleryHtml.Number(status.EmbeddedWithOtherModel)} embedded by another model only)" : ""));
        Row(html, "failed", GalleryHtml.Number(status.Failed));
        foreach (var failure in status.Failures)
        {
            Row(html, failure.Permanent ? "  permanent" : "  retrying", $"{GalleryHtml.Number(failure.Rows)} × {failure.Reason}");
        }

        Row(html, "model", model.Name + (!model.IsSemantic ? " (test model: results are NOT semantic)" : ""));
        foreach (var coverage in status.Coverage ?? [])
        {
            Row(html, $"  {coverage.State}", $"{coverage.Name} ({coverage.Dimension}-d): {GalleryHtml.Number(coverage.Embedded)} of {GalleryHtml.Number(coverage.Total)} embedded, index {coverage.IndexName ?? "none"}");
        }

        if (await services.GetRequiredService<CachedGalleryStatus>().ReadBackfillAsync(http.RequestAborted) is { } backfill)
        {
            Row(html, "backfill", backfill.ToString());
        }

        if (status.Indexes.Count == 0)
        {
            Row(html, "index", "none (searches scan every row)");
        }

        foreach (var index in status.Indexes)
        {
            Row(html, "index", $"{index.Name} ({index.Type}, {index.Size}{(index.Valid ? "" : ", INVALID: rebuild it")})");
        }

        Row(html, "pgvector", (pgvector.Installed ?? "not installed") + (pgvector.Warning is { } warning ? $" (warning: {warning})" : ""));
        html.Append("</table>\n<p class=\"muted\">Counts as of ").Append(GalleryHtml.Time(readAt))
            .Append(" (refreshed at most every ").Append(CachedGalleryStatus.MaxAge.TotalSeconds.ToString(CultureInfo.InvariantCulture)).Append(" s).</p>\n")
            .Append("<p>Jobs: <a href=\"/hangfire/recurring\">recurring</a> · <a href=\"/hangfire/jobs/enqueued\">enqueued</a> · ")
            .Append("<a href=\"/hangfire/jobs/processing\">processing</a> · <a href=\"/hangfire/jobs/failed\">failed</a> · <a href=\"/hangfire/servers\">servers</a></p>\n");

        html.Append("<h2>Failed images</h2>\n");
        if (failed.Count == 0)
        {
            html.Append("<p class=\"muted\" id=\"failed\">None").Append(after > 0 ? " after this point" : "").Append(".</p>");
        }
        else
        {
            html.Append("<table id=\"failed\"><tr><th>id</th><th>path</th><th>error</th><th>attempts</th></tr>");
            foreach (var image in failed)
            {
                var idText = image.Id.ToString(CultureInfo.InvariantCulture);
                html.Append("<tr><td><a href=\"/image/").Append(idText).Append("\">").Append(idText).Append("</a></td><td class=\"path\">")
                    .Append(GalleryHtml.Encode(image.Path)).Append("</td><td>")
                    .Append(GalleryHtml.Encode((image.EmbedErrorPermanent ? "permanent: " : "retrying: ") + (image.EmbedError ?? "(no reason recorded)")))
                    .Append("</td><td>").Append(image.EmbedAttempts.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>");
            }

            html.Append("</table>\n");
            if (failed.Count == FailedPageSize)
            {
                html.Append("<div class=\"pages\"><a href=\"/operator?after=").Append(failed[^1].Id.ToString(CultureInfo.InvariantCulture)).Append("\">more →</a></div>");
            }
        }

        return GalleryHtml.Result(http, "Operator", html.ToString());
    }

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(GalleryHtml.Encode(name)).Append("</th><td>").Append(GalleryHtml.Encode(value)).Append("</td></tr>");
}
