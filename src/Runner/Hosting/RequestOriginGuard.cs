using Microsoft.AspNetCore.Http;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The checks every request to <c>dbfirst serve</c> passes before any page or the dashboard sees it: a known
/// <c>Host</c> in local-only mode (a DNS-rebinding page reaches 127.0.0.1 under its own name), and for POSTs an
/// <c>Origin</c>, when the browser sends one, naming this server (a page on another site cannot post here).
/// Then the access rule of <see cref="DashboardAccessFilter"/> for everything except <c>/health</c> and
/// <c>/embed/text</c> (which has its own loopback rule).
/// </summary>
internal sealed class RequestOriginGuard
{
    private readonly RequestDelegate _next;
    private readonly DashboardAccessFilter _access;
    private readonly HostRules _hosts;

    public RequestOriginGuard(RequestDelegate next, DashboardAccessFilter access, HostRules hosts)
    {
        _next = next;
        _access = access;
        _hosts = hosts;
    }

    public async Task InvokeAsync(HttpContext http)
    {
        if (!_access.RequiresCredentials && !_hosts.IsKnown(http.Request.Host.Host))
        {
            await RefuseAsync(http, StatusCodes.Status400BadRequest, "unknown Host: this server answers to localhost and its loopback addresses only");
            return;
        }

        if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method)
            && http.Request.Headers.Origin is { Count: > 0 } origin && !_hosts.IsOwnOrigin(origin.ToString(), http.Request.Host.Value ?? ""))
        {
            await RefuseAsync(http, StatusCodes.Status403Forbidden, "cross-site request refused (foreign Origin)");
            return;
        }

        var path = http.Request.Path;
        if (!path.Equals("/health", StringComparison.OrdinalIgnoreCase) && !path.Equals(EmbedTextEndpoint.Route, StringComparison.OrdinalIgnoreCase)
            && !_access.IsAllowed(http))
        {
            await RefuseAsync(http, StatusCodes.Status401Unauthorized, _access.RequiresCredentials ? "credentials required" : "local requests only");
            return;
        }

        await _next(http);
    }

    private static Task RefuseAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/plain; charset=utf-8";
        return http.Response.WriteAsync(message + "\n", http.RequestAborted);
    }
}
