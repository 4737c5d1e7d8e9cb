using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Hosting;

/// <summary><c>GET /health</c>: 200 with <c>"status":"ok"</c> when all is well, 503 otherwise, JSON either way.</summary>
internal static class HealthEndpoint
{
    public static IEndpointConventionBuilder MapHealthEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/health", async (HttpContext http) =>
        {
            var report = await http.RequestServices.GetRequiredService<GalleryHealthProbe>().CheckAsync(http.RequestAborted);
            return Results.Json(report, DbFirstJson.Options, statusCode: report.Status == "ok" ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
}
