using DbFirst.Imaging;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// Maps the gallery page of <c>dbfirst serve</c>: <c>/</c>, <c>/ask</c>, <c>/image/{id}</c> and its two actions,
/// <c>/operator</c>, and <c>/thumb/{id}</c>. Access (local or basic auth), Host and Origin are checked before any
/// of these by <see cref="Hosting.RequestOriginGuard"/>; every POST here also needs the antiforgery token.
/// </summary>
internal static class GalleryPageEndpoints
{
    public static void MapGalleryPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (Delegate)SearchPage.GetAsync);
        endpoints.MapGet("/image/{id:long}", ImagePage.GetAsync);
        endpoints.MapGet("/operator", (Delegate)OperatorPage.GetAsync);
        endpoints.MapGet("/thumb/{id:long}", ThumbnailAsync);
        endpoints.MapPost("/ask", (Delegate)SearchPage.AskAsync).AddEndpointFilter(RequireAntiforgeryAsync);
        endpoints.MapPost("/image/{id:long}/describe", ImagePage.DescribeAsync).AddEndpointFilter(RequireAntiforgeryAsync);
        endpoints.MapPost("/image/{id:long}/reembed", ImagePage.ReembedAsync).AddEndpointFilter(RequireAntiforgeryAsync);
    }

    /// <summary>
    /// <c>GET /thumb/{id}?size=320|1600</c>: a JPEG of a registered image. The file's path comes from the row with
    /// this id, never from the request.
    /// </summary>
    private static async Task<IResult> ThumbnailAsync(HttpContext http, long id, int? size)
    {
        var rendition = size ?? ThumbnailCache.Sizes[0];
        if (!ThumbnailCache.Sizes.Contains(rendition))
        {
            return Results.Text($"size must be one of {string.Join(", ", ThumbnailCache.Sizes)}\n", statusCode: StatusCodes.Status400BadRequest);
        }

        var image = await http.RequestServices.GetRequiredService<GalleryPageStore>().ByIdAsync(id, http.RequestAborted);
        if (image is null)
        {
            return Results.Text("no image with this id\n", statusCode: StatusCodes.Status404NotFound);
        }

        try
        {
            var jpeg = await http.RequestServices.GetRequiredService<ThumbnailCache>().GetAsync(image, rendition, http.RequestAborted);
            http.Response.Headers.CacheControl = "private, max-age=3600";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return Results.Bytes(jpeg, "image/jpeg");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ImageDecodeException)
        {
            // The reason is logged for the operator; the page shows the image's alt text (its file name) instead.
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GalleryPageEndpoints))
                .LogInformation("thumbnail of image {Id} unavailable: {Reason}", id, exception.Message);
            return Results.Text("this image cannot be shown\n", statusCode: StatusCodes.Status404NotFound);
        }
    }

    private static async ValueTask<object?> RequireAntiforgeryAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            return Results.Text("missing or invalid antiforgery token: reload the page and try again\n", statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context);
    }
}
