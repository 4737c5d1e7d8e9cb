using System.Net;
using System.Net.Http.Headers;
using System.Text;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbFirst.Tests.Runner.Hosting;

/// <summary>
/// The real dashboard on a loopback Kestrel port. A test-only middleware replaces the caller's address with the one
/// in <c>X-Test-Remote-Ip</c>, which is how a request from another machine is simulated.
/// </summary>
public sealed class DashboardAccessTests : IClassFixture<PostgresFixture>
{
    private const string RemoteIpHeader = "X-Test-Remote-Ip";
    private readonly PostgresFixture _fixture;

    public DashboardAccessTests(PostgresFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task WithoutCredentialsConfigured_LocalRequestGetsDashboard_RemoteGets401()
    {
        await using var app = await StartAsync(username: null, password: null);
        using var client = Client(app);

        var local = await client.GetAsync("/hangfire/recurring");
        var remote = await client.SendAsync(Get("/hangfire/recurring", remoteIp: "203.0.113.7"));

        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Contains("embed-pending", await local.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, remote.StatusCode);
        Assert.DoesNotContain("Recurring", await remote.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WithCredentialsConfigured_RemoteWithoutThemGets401Challenge_WithThemGetsDashboard()
    {
        await using var app = await StartAsync(username: "admin", password: "s3cret-pass");
        using var client = Client(app);

        var anonymous = await client.SendAsync(Get("/hangfire", remoteIp: "203.0.113.7"));
        var wrong = await client.SendAsync(Get("/hangfire", remoteIp: "203.0.113.7", "admin", "guess"));
        var localAnonymous = await client.GetAsync("/hangfire");
        var right = await client.SendAsync(Get("/hangfire/recurring", remoteIp: "203.0.113.7", "admin", "s3cret-pass"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);
        Assert.DoesNotContain("Recurring", await anonymous.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, localAnonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        var page = await right.Content.ReadAsStringAsync();
        Assert.Contains("embed-pending", page);
        Assert.DoesNotContain("s3cret-pass", page);
        Assert.DoesNotContain("Password", page, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OnlyOneOfUsernameAndPassword_IsRefused()
    {
        var error = Assert.Throws<GalleryException>(() => new DashboardAccessFilter("admin", null));
        Assert.Contains("both", error.Message);
    }

    private async Task<WebApplication> StartAsync(string? username, string? password)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Dashboard:Username"] = username,
            ["Dashboard:Password"] = password,
        }).Build();
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // Hangfire keeps its log provider in a static; one tied to this short-lived host's logger factory would
        // break every later Hangfire call in the test process once the host is disposed.
        builder.Services.AddHangfire(hangfire => hangfire.UseGalleryStorage(_fixture.ConnectionString).UseLogProvider(new SilentLogProvider()));
        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (context.Request.Headers.TryGetValue(RemoteIpHeader, out var ip))
            {
                context.Connection.RemoteIpAddress = IPAddress.Parse(ip.ToString());
            }

            return next(context);
        });
        var settings = new DbFirst.Configuration.SettingsReader(key => configuration[key]);
        GalleryHost.UseDashboard(app, DashboardSettings.Read(settings).Access());
        await app.StartAsync();
        DbFirst.Jobs.RecurringJobCatalog.Register(app.Services.GetRequiredService<IRecurringJobManager>(), DbFirst.Jobs.RecurringJobCatalog.Read(settings));
        return app;
    }

    private static HttpClient Client(WebApplication app)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HttpClient { BaseAddress = new Uri(address) };
    }

    private static HttpRequestMessage Get(string path, string remoteIp, string? username = null, string? password = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(RemoteIpHeader, remoteIp);
        if (username is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));
        }

        return request;
    }

    private sealed class SilentLogProvider : Hangfire.Logging.ILogProvider, Hangfire.Logging.ILog
    {
        public Hangfire.Logging.ILog GetLogger(string name) => this;

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
