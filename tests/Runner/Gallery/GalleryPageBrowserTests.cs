using DbFirst.Tests.Support;
using Microsoft.Playwright;

namespace DbFirst.Tests.Runner.Gallery;

/// <summary>
/// Debian's Chromium, headless, driven by Playwright against a running <c>dbfirst serve</c>. Screenshots of the
/// search results, an image page and the operator view go to <c>bench-results/pages/</c>.
/// </summary>
[Collection(GalleryServeCollection.Name)]
public sealed class GalleryPageBrowserTests : IAsyncLifetime
{
    private static readonly string[] s_chromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private static readonly string s_screenshots = Path.Combine(TestPaths.RepoRoot, "bench-results", "pages");

    private readonly GalleryServeFixture _serve;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private IPage _page = null!;
    private readonly List<string> _dialogs = [];

    public GalleryPageBrowserTests(GalleryServeFixture serve) => _serve = serve;

    public async Task InitializeAsync()
    {
        if (!File.Exists(BrowserFactAttribute.Chromium))
        {
            return;
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Args = s_chromiumArgs,
            Headless = true,
            Timeout = 60_000,
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = _serve.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        _page = await context.NewPageAsync();
        _page.Dialog += (_, dialog) =>
        {
            _dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };
        Directory.CreateDirectory(s_screenshots);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }

    [BrowserFact]
    public async Task TypingARedPhoto_ShowsRedImagesFirst()
    {
        await _page.GotoAsync("/");
        await _page.FillAsync("input[name=q]", "a red photo");
        await _page.SelectOptionAsync("select[name=k]", "12");
        await _page.ClickAsync("form[role=search] button[type=submit]");
        await _page.WaitForSelectorAsync("#results figure");

        var paths = await _page.Locator("#results figcaption a.path").AllInnerTextsAsync();
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(s_screenshots, "search.png"), FullPage = true });

        Assert.Equal(12, paths.Count);
        Assert.All(paths.Take(2), path => Assert.StartsWith("red", Path.GetFileName(path)));
        Assert.Equal(12, await _page.EvaluateAsync<int>("() => [...document.querySelectorAll('#results img')].filter(i => i.complete && i.naturalWidth > 0).length"));
    }

    [BrowserFact]
    public async Task OpeningAnImage_ShowsItAndItsSimilarImages()
    {
        await _page.GotoAsync("/?q=a+blue+photo&k=12");
        await _page.ClickAsync("#results figure >> nth=0 >> img");
        await _page.WaitForSelectorAsync("#similar figure");

        var similar = await _page.Locator("#similar figure").CountAsync();
        var viewLoaded = await _page.EvaluateAsync<bool>("() => { const i = document.querySelector('.view img'); return i.complete && i.naturalWidth > 0; }");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(s_screenshots, "image.png"), FullPage = true });

        Assert.True(similar >= 1);
        Assert.True(viewLoaded);
        Assert.StartsWith("blue", Path.GetFileName(await _page.Locator("#details tr:has(th:text-is('path')) td").InnerTextAsync()));
    }

    [BrowserFact]
    public async Task Describe_QueuesTheRequest()
    {
        var id = await _serve.Database.ScalarAsync<long>("SELECT min(id) FROM gallery.image_gallery WHERE path LIKE '%/yellow.jpg'");
        await _page.GotoAsync($"/image/{id}");

        await _page.ClickAsync("#describe");
        await _page.WaitForSelectorAsync("#queued");

        Assert.Contains("Description queued", await _page.InnerTextAsync("#queued"));
        Assert.NotNull(await _serve.Database.ScalarAsync<DateTime?>($"SELECT describe_requested_at FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Contains("description requested", await _page.InnerTextAsync("#details"));
    }

    [BrowserFact]
    public async Task OperatorView_ListsTheCorruptFileWithItsError()
    {
        await _page.GotoAsync("/operator");

        var failed = await _page.InnerTextAsync("#failed");
        var status = await _page.InnerTextAsync("#status");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(s_screenshots, "operator.png"), FullPage = true });

        Assert.Contains(_serve.CorruptPath, failed);
        Assert.Contains("truncated", failed);
        Assert.Contains("pgvector", status);
        Assert.Contains("tiny-clip-test", status);
        Assert.Equal(1, await _page.Locator("a[href='/hangfire/jobs/failed']").CountAsync());
    }

    [BrowserFact]
    public async Task HostileFileName_RendersAsText()
    {
        await _page.GotoAsync("/?q=a+green+photo&k=12");
        await _page.WaitForSelectorAsync("#results figure");

        var shownAsText = await _page.GetByText(GalleryServeFixture.HostileName, new PageGetByTextOptions { Exact = false }).CountAsync();
        var injected = await _page.Locator("img[src='x']").CountAsync();

        Assert.True(shownAsText >= 1);
        Assert.Equal(0, injected);
        Assert.Empty(_dialogs);
    }

    [BrowserFact]
    public async Task Ask_ShowsClaudesAnswer_AndARepeatComesFromTheCache()
    {
        var question = $"which of these is red? ({Guid.NewGuid():N})";
        await _page.GotoAsync("/");
        await _page.FillAsync("input[name=question]", question);
        await _page.ClickAsync("form[action='/ask'] button[type=submit]");
        await _page.WaitForSelectorAsync("#answer");
        var first = await _page.InnerTextAsync("#answer");
        var callsAfterFirst = _serve.Claude.Requests.Count;

        await _page.FillAsync("input[name=question]", question);
        await _page.ClickAsync("form[action='/ask'] button[type=submit]");
        await _page.WaitForSelectorAsync("#answer");

        Assert.StartsWith("A test description number", first);
        Assert.Equal(first, await _page.InnerTextAsync("#answer"));
        Assert.Contains("gallery.ask_cache", await _page.InnerTextAsync("main"));
        Assert.Equal(callsAfterFirst, _serve.Claude.Requests.Count);
        Assert.Equal(3, await _page.Locator(".grid figure").CountAsync());
    }

    [BrowserFact]
    public async Task PostWithAForeignOrigin_IsRefused()
    {
        var id = await _serve.Database.ScalarAsync<long>("SELECT min(id) FROM gallery.image_gallery WHERE path LIKE '%/purple.jpg'");
        await _page.GotoAsync($"/image/{id}");
        var token = await _page.GetAttributeAsync("form[action$='/describe'] input[type=hidden]", "value");

        // The page's own token and cookie, sent from another site's origin: the Origin alone must get it refused.
        var response = await _page.Context.APIRequest.PostAsync($"/image/{id}/describe", new APIRequestContextOptions
        {
            Headers = new Dictionary<string, string> { ["Origin"] = "http://evil.example" },
            Form = _page.Context.APIRequest.CreateFormData().Set("__RequestVerificationToken", token ?? ""),
            MaxRedirects = 0,
        });

        Assert.Equal(403, response.Status);
        Assert.Contains("foreign Origin", await response.TextAsync());
        Assert.Null(await _serve.Database.ScalarAsync<DateTime?>($"SELECT describe_requested_at FROM gallery.image_gallery WHERE id = {id}"));
    }
}
