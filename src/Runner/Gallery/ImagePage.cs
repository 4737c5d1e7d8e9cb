using System.Globalization;
using System.Text;
using DbFirst.Search;
using Hangfire;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// <c>GET /image/{id}</c>: the image scaled to the window, its details, its similar images and near-duplicates, and
/// the "describe" and "re-embed" buttons (POSTs with the antiforgery token).
/// </summary>
internal static class ImagePage
{
    /// <summary>Cosine distance at or under which a similar image counts as a near-duplicate (as <c>dbfirst duplicates</c>).</summary>
    public const double DuplicateDistance = 0.01;

    private const int SimilarCount = 12;

    public static async Task<IResult> GetAsync(HttpContext http, long id)
    {
        var services = http.RequestServices;
        var image = await services.GetRequiredService<GalleryPageStore>().ByIdAsync(id, http.RequestAborted);
        if (image is null)
        {
            return GalleryHtml.Result(http, "Not found", "<p class=\"error\">No image with this id.</p>", StatusCodes.Status404NotFound);
        }

        var idText = id.ToString(CultureInfo.InvariantCulture);
        var html = new StringBuilder();
        html.Append("<h1 class=\"path\">").Append(GalleryHtml.Encode(Path.GetFileName(image.Path))).Append("</h1>\n");
        AppendNotice(html, http.Request.Query["done"].ToString(), http.Request.Query["job"].ToString());
        html.Append("<div class=\"view\"><img src=\"/thumb/").Append(idText).Append("?size=1600\" alt=\"")
            .Append(GalleryHtml.Encode(Path.GetFileName(image.Path))).Append("\"></div>\n");

        var antiforgery = GalleryHtml.AntiforgeryField(services.GetRequiredService<IAntiforgery>(), http);
        html.Append("<div class=\"actions\">")
            .Append("<form method=\"post\" action=\"/image/").Append(idText).Append("/describe\">").Append(antiforgery)
            .Append("<button type=\"submit\" id=\"describe\">Describe</button></form>")
            .Append("<form method=\"post\" action=\"/image/").Append(idText).Append("/reembed\">").Append(antiforgery)
            .Append("<button type=\"submit\" id=\"reembed\" title=\"operators: drop the embedding and queue embed-pending\">Re-embed</button></form>")
            .Append("</div>\n");
        AppendDetails(html, image);

        if (!image.IsEmbedded)
        {
            html.Append("<p class=\"notice\">Not embedded yet, so there are no similar images to show.</p>");
            return GalleryHtml.Result(http, Path.GetFileName(image.Path), html.ToString());
        }

        IReadOnlyList<SearchHit> similar;
        try
        {
            similar = await services.GetRequiredService<GallerySearch>().SimilarAsync(id, SimilarCount, cancellationToken: http.RequestAborted);
        }
        catch (GalleryException exception)
        {
            // Re-embedded or deleted since the row was read above.
            html.Append("<p class=\"notice\">").Append(GalleryHtml.Encode(exception.Message)).Append("</p>");
            return GalleryHtml.Result(http, Path.GetFileName(image.Path), html.ToString());
        }

        var details = await services.GetRequiredService<GalleryPageStore>().ByIdsAsync(similar.Select(h => h.Id).ToList(), http.RequestAborted);
        var duplicates = similar.Where(h => h.Distance <= DuplicateDistance).ToList();
        html.Append("<h2>Near-duplicates</h2>\n");
        if (duplicates.Count == 0)
        {
            html.Append("<p class=\"muted\" id=\"duplicates\">None within distance ")
                .Append(DuplicateDistance.ToString(CultureInfo.InvariantCulture)).Append(".</p>\n");
        }
        else
        {
            html.Append("<div class=\"grid\" id=\"duplicates\">\n");
            foreach (var hit in duplicates)
            {
                GalleryHtml.Figure(html, 0, hit.Id, hit.Path, hit.Distance, details.GetValueOrDefault(hit.Id));
            }

            html.Append("</div>\n");
        }

        html.Append("<h2>Similar images</h2>\n<div class=\"grid\" id=\"similar\">\n");
        for (var i = 0; i < similar.Count; i++)
        {
            GalleryHtml.Figure(html, i + 1, similar[i].Id, similar[i].Path, similar[i].Distance, details.GetValueOrDefault(similar[i].Id));
        }

        html.Append("</div>\n");
        return GalleryHtml.Result(http, Path.GetFileName(image.Path), html.ToString());
    }

    /// <summary><c>POST /image/{id}/describe</c>: <c>gallery.request_description</c>, then back to the image.</summary>
    public static async Task<IResult> DescribeAsync(HttpContext http, long id)
    {
        var found = await http.RequestServices.GetRequiredService<GalleryPageStore>().RequestDescriptionAsync(id, http.RequestAborted);
        return found
            ? Results.Redirect($"/image/{id.ToString(CultureInfo.InvariantCulture)}?done=describe")
            : GalleryHtml.Result(http, "Not found", "<p class=\"error\">No image with this id.</p>", StatusCodes.Status404NotFound);
    }

    /// <summary><c>POST /image/{id}/reembed</c>: <c>gallery.request_reembed</c> and an embed-pending run on Hangfire's queue.</summary>
    public static async Task<IResult> ReembedAsync(HttpContext http, long id)
    {
        var found = await http.RequestServices.GetRequiredService<GalleryPageStore>().RequestReembedAsync(id, http.RequestAborted);
        if (!found)
        {
            return GalleryHtml.Result(http, "Not found", "<p class=\"error\">No image with this id.</p>", StatusCodes.Status404NotFound);
        }

        var jobId = http.RequestServices.GetRequiredService<IBackgroundJobClient>()
            .Enqueue<Jobs.EmbedPendingJob>(job => job.RunAsync(null, CancellationToken.None));
        return Results.Redirect($"/image/{id.ToString(CultureInfo.InvariantCulture)}?done=reembed&job={Uri.EscapeDataString(jobId)}");
    }

    private static void AppendNotice(StringBuilder html, string done, string job)
    {
        if (done == "describe")
        {
            html.Append("<p class=\"notice\" id=\"queued\">Description queued (gallery.request_description): the describe-pending job, or <code>dbfirst describe</code>, describes it on its next run. ")
                .Append("<a href=\"/hangfire/recurring\">Recurring jobs</a></p>\n");
        }
        else if (done == "reembed")
        {
            html.Append("<p class=\"notice\" id=\"queued\">Re-embed queued: the embedding was dropped and embed-pending was enqueued");
            if (job.Length > 0)
            {
                html.Append(" (<a href=\"/hangfire/jobs/details/").Append(GalleryHtml.Encode(Uri.EscapeDataString(job))).Append("\">job ").Append(GalleryHtml.Encode(job)).Append("</a>)");
            }

            html.Append(".</p>\n");
        }
    }

    private static void AppendDetails(StringBuilder html, ImageDetails image)
    {
        html.Append("<table id=\"details\">");
        Row(html, "id", image.Id.ToString(CultureInfo.InvariantCulture));
        Row(html, "path", image.Path);
        Row(html, "taken", GalleryHtml.Time(image.TakenAt));
        Row(html, "size", image.Width is { } w && image.Height is { } h ? $"{w} × {h}" : "—");
        Row(html, "file", $"{image.MediaType ?? "?"}, {(image.ByteSize is { } bytes ? GalleryHtml.Number(bytes) + " bytes" : "—")}");
        Row(html, "embedding", image.IsEmbedded ? $"{image.EmbeddingModel}, {GalleryHtml.Time(image.EmbeddedAt)}"
            : image.EmbedError is { } error ? $"failed ({(image.EmbedErrorPermanent ? "permanent" : $"retrying; {image.EmbedAttempts} attempts so far")}): {error}"
            : "pending");
        Row(html, "description", image.Description is { } d ? $"{d} ({image.DescriptionModel})" : "none yet");
        if (image.DescribeRequestedAt is { } requested)
        {
            Row(html, "description requested", GalleryHtml.Time(requested));
        }

        if (image.DescribeError is { } describeError)
        {
            Row(html, "last describe error", describeError);
        }

        html.Append("</table>\n");
    }

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(GalleryHtml.Encode(name)).Append("</th><td>").Append(GalleryHtml.Encode(value)).Append("</td></tr>");
}
