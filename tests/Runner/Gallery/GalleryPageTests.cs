using System.Net;
using System.Text.RegularExpressions;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner.Gallery;

/// <summary>The gallery page and the dashboard of a running <c>dbfirst serve</c>, over HTTP.</summary>
[Collection(GalleryServeCollection.Name)]
public sealed partial class GalleryPageTests
{
    private readonly GalleryServeFixture _serve;

    public GalleryPageTests(GalleryServeFixture serve) => _serve = serve;

    [Fact]
    public async Task Search_ARedPhoto_ListsTheRedImagesFirst()
    {
        using var client = _serve.CreateClient();

        var page = await client.GetStringAsync("/?q=a+red+photo&k=12");

        var paths = PathLinks().Matches(page).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
        Assert.Equal(12, paths.Count);
        Assert.All(paths.Take(2), path => Assert.StartsWith("red", Path.GetFileName(path)));
    }

    [Fact]
    public async Task Search_HostileFileName_IsEncodedText()
    {
        using var client = _serve.CreateClient();

        var page = await client.GetStringAsync("/?q=a+green+photo&k=12");

        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;.jpg", page);
        Assert.DoesNotContain("<img src=x", page);
    }

    [Fact]
    public async Task CrossSiteDashboardPost_WithForeignHostAndOrigin_IsRefused_AndTheJobStays()
    {
        using var client = _serve.CreateClient();
        using var repro = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/remove")
        {
            Content = new FormUrlEncodedContent([new("jobs[]", "embed-pending")]),
        };
        repro.Headers.Host = "evil.example";
        repro.Headers.Add("Origin", "http://evil.example");

        using var response = await client.SendAsync(repro);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("embed-pending", await client.GetStringAsync("/hangfire/recurring"));
    }

    [Fact]
    public async Task DashboardPost_WithForeignOriginOrWithoutToken_IsRefused_WithTheDashboardsTokenWorks()
    {
        using var client = _serve.CreateClient();
        var dashboard = await client.GetStringAsync("/hangfire/recurring");
        var token = CsrfToken().Match(dashboard).Groups[1].Value;
        Assert.NotEmpty(token);

        using var foreign = RemoveJob("collect-describe-batches", origin: "http://evil.example", token);
        using var noToken = RemoveJob("collect-describe-batches", origin: _serve.BaseAddress.ToString().TrimEnd('/'), token: null);
        var foreignStatus = (await client.SendAsync(foreign)).StatusCode;
        var noTokenStatus = (await client.SendAsync(noToken)).StatusCode;
        var stillThere = await client.GetStringAsync("/hangfire/recurring");
        using var genuine = RemoveJob("collect-describe-batches", origin: _serve.BaseAddress.ToString().TrimEnd('/'), token);
        var genuineStatus = (await client.SendAsync(genuine)).StatusCode;

        Assert.Equal(HttpStatusCode.Forbidden, foreignStatus);
        Assert.Equal(HttpStatusCode.Forbidden, noTokenStatus);
        Assert.Contains("collect-describe-batches", stillThere);
        Assert.Equal(HttpStatusCode.NoContent, genuineStatus);
    }

    [Fact]
    public async Task PagePost_WithoutAntiforgeryToken_IsRefused_AndNothingIsQueued()
    {
        using var client = _serve.CreateClient();
        var id = await _serve.Database.ScalarAsync<long>("SELECT min(id) FROM gallery.image_gallery WHERE path LIKE '%/blue.jpg'");

        using var response = await client.PostAsync($"/image/{id}/describe", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null(await _serve.Database.ScalarAsync<DateTime?>($"SELECT describe_requested_at FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task ForeignHost_GetsNoPage()
    {
        using var client = _serve.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/operator");
        request.Headers.Host = "rebound.attacker.example";

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("Operator", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Thumbnail_IsAJpegOfARegisteredRow_UnknownIdsAndSizesAreRefused()
    {
        using var client = _serve.CreateClient();
        var id = await _serve.Database.ScalarAsync<long>("SELECT min(id) FROM gallery.image_gallery WHERE path LIKE '%/red.jpg'");

        using var thumbnail = await client.GetAsync($"/thumb/{id}");
        using var unknown = await client.GetAsync("/thumb/987654321");
        using var oddSize = await client.GetAsync($"/thumb/{id}?size=5000");
        using var notAnId = await client.GetAsync("/thumb/..%2F..%2Fetc%2Fpasswd");

        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        Assert.Equal("image/jpeg", thumbnail.Content.Headers.ContentType?.MediaType);
        using var decoded = SkiaSharp.SKBitmap.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal(320, Math.Max(decoded.Width, decoded.Height));
        var pixels = decoded.Pixels;
        Assert.True(pixels.Average(p => p.Red) > pixels.Average(p => p.Blue) + 80, "the thumbnail of red.jpg is not red");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, oddSize.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notAnId.StatusCode);
    }

    [Fact]
    public async Task Pages_ForbidScriptsAndFraming_AndShowNoConnectionDetails()
    {
        using var client = _serve.CreateClient();

        using var response = await client.GetAsync("/operator");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Contains("frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Password", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_serve.Database.Name, page);
        Assert.DoesNotContain(GalleryServeFixture.ApiKey, page);
    }

    [Fact]
    public async Task WithoutApiKey_TheAskBoxSaysSo_AndAskIsRefusedCleanly()
    {
        using var client = _serve.CreateClient();
        client.BaseAddress = _serve.WithoutKeyAddress;

        var page = await client.GetStringAsync("/");
        var form = await client.GetStringAsync("/image/1");
        var token = HiddenToken().Match(form).Groups[1].Value;
        using var ask = await client.PostAsync("/ask", new FormUrlEncodedContent([new("__RequestVerificationToken", token), new("question", "which is red?"), new("k", "3")]));

        Assert.Contains("Ask is off", page);
        Assert.Contains("ANTHROPIC_API_KEY", page);
        Assert.DoesNotContain("action=\"/ask\"", page);
        Assert.Equal(HttpStatusCode.BadRequest, ask.StatusCode);
        Assert.Contains("asking needs ANTHROPIC_API_KEY", await ask.Content.ReadAsStringAsync());
    }

    private static HttpRequestMessage RemoveJob(string job, string origin, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/remove")
        {
            Content = new FormUrlEncodedContent([new("jobs[]", job)]),
        };
        request.Headers.Add("Origin", origin);
        if (token is not null)
        {
            request.Headers.Add("RequestVerificationToken", token);
        }

        return request;
    }

    [GeneratedRegex("class=\"path\">([^<]*)</a>")]
    private static partial Regex PathLinks();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex HiddenToken();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\"")]
    private static partial Regex CsrfToken();
}
