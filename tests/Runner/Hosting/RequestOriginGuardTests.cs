using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DbFirst.Runner.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbFirst.Tests.Runner.Hosting;

/// <summary>
/// The guard in front of the gallery page and the dashboard, on a loopback Kestrel port with stand-in endpoints.
/// <c>X-Test-Remote-Ip</c> replaces the caller's address, as in <see cref="DashboardAccessTests"/>.
/// </summary>
public sealed class RequestOriginGuardTests
{
    private const string RemoteIpHeader = "X-Test-Remote-Ip";

    [Fact]
    public async Task WithCredentials_ThePageNeedsThemFromEveryone_HealthDoesNot_PublicNameAccepted()
    {
        await using var app = await StartAsync("admin", "s3cret-pass", allowedHosts: "gallery.example.com");
        using var client = Client(app);

        using var anonymous = await client.SendAsync(Request(HttpMethod.Get, "/", remoteIp: "127.0.0.1"));
        using var health = await client.SendAsync(Request(HttpMethod.Get, "/health", remoteIp: "203.0.113.7"));
        using var viaProxy = Request(HttpMethod.Post, "/", remoteIp: "127.0.0.1", credentials: "admin:s3cret-pass");
        viaProxy.Headers.Host = "gallery.example.com";
        viaProxy.Headers.Add("Origin", "https://gallery.example.com");
        using var proxied = await client.SendAsync(viaProxy);
        using var wrongPassword = await client.SendAsync(Request(HttpMethod.Get, "/", remoteIp: "203.0.113.7", credentials: "admin:guess"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
    }

    [Fact]
    public async Task LocalOnly_RemoteCallersGet401_ForeignHostGets400_ForeignOriginPostGets403()
    {
        await using var app = await StartAsync(null, null, allowedHosts: null);
        using var client = Client(app);
        using var foreignHost = Request(HttpMethod.Get, "/", remoteIp: "127.0.0.1");
        foreignHost.Headers.Host = "evil.example";
        using var foreignOrigin = Request(HttpMethod.Post, "/", remoteIp: "127.0.0.1");
        foreignOrigin.Headers.Add("Origin", "http://evil.example");

        using var remote = await client.SendAsync(Request(HttpMethod.Get, "/", remoteIp: "203.0.113.7"));
        using var local = await client.SendAsync(Request(HttpMethod.Get, "/", remoteIp: "127.0.0.1"));

        Assert.Equal(HttpStatusCode.Unauthorized, remote.StatusCode);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(foreignHost)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.SendAsync(foreignOrigin)).StatusCode);
    }

    private static async Task<WebApplication> StartAsync(string? username, string? password, string? allowedHosts)
    {
        var access = new DashboardAccessFilter(username, password);
        var hosts = HostRules.Create(allowedHosts, "http://127.0.0.1:0", access.RequiresCredentials);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue(RemoteIpHeader, out var ip))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(ip.ToString());
            }

            return next(context);
        });
        app.UseMiddleware<RequestOriginGuard>(access, hosts);
        app.MapGet("/", () => "page");
        app.MapPost("/", () => "posted");
        app.MapGet("/health", () => "ok");
        await app.StartAsync();
        return app;
    }

    private static HttpClient Client(WebApplication app) => new()
    {
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
    };

    private static HttpRequestMessage Request(HttpMethod method, string path, string remoteIp, string? credentials = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add(RemoteIpHeader, remoteIp);
        if (credentials is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        return request;
    }
}
