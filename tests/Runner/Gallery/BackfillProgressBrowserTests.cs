using System.Text.Json.Nodes;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Microsoft.Playwright;

namespace DbFirst.Tests.Runner.Gallery;

/// <summary>
/// A staged model's backfill as an operator sees it in Chromium, on a <c>dbfirst serve</c> of its own (the shared
/// gallery must not get a staged model): the dashboard's home page and the operator view. The staged model's name is
/// hostile markup, which both must show as text. Screenshots go to <c>bench-results/pages/</c>.
/// </summary>
public sealed class BackfillProgressBrowserTests : IAsyncLifetime
{
    private const string HostileName = "tiny-384 <img src=x onerror=alert(1)>";
    private const int Backfilled = 3;

    private static readonly string s_screenshots = Path.Combine(TestPaths.RepoRoot, "bench-results", "pages");

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dbfirst-backfill-page-");
    private readonly List<string> _dialogs = [];
    private TestDatabase _database = null!;
    private DbFirstProcess? _serve;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private IPage _page = null!;
    private long _images;

    public async Task InitializeAsync()
    {
        if (!File.Exists(BrowserFactAttribute.Chromium))
        {
            return;
        }

        _database = await TestDatabase.CreateAsync();
        var photos = Path.Combine(_folder.FullName, "photos");
        await RunAsync("samples", "colours", photos, "--per-colour", "1");
        await RunAsync("ingest", photos, "--connection", _database.ConnectionString);
        await RunAsync("embed", "--model", TestPaths.TinyClipModel, "--connection", _database.ConnectionString);

        // The 384-d test model under a name that is markup: names come from a model folder's config.json.
        var staged = Path.Combine(_folder.FullName, "staged-model");
        CopyDirectory(TestPaths.TinyClip384Model, staged);
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(staged, "config.json")))!;
        config["model_name"] = HostileName;
        await File.WriteAllTextAsync(Path.Combine(staged, "config.json"), config.ToJsonString());
        await RunAsync("model", "stage", staged, "--connection", _database.ConnectionString);
        await RunAsync("embed", "--model", TestPaths.TinyClipModel, "--limit", Backfilled.ToString(System.Globalization.CultureInfo.InvariantCulture), "--connection", _database.ConnectionString);
        _images = await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery");
        // Ingest enqueued an embed-pending run, which serve would pick up and finish the backfill with.
        await _database.ExecuteAsync("DELETE FROM hangfire.jobqueue");

        var address = LoopbackServe.FreeAddress();
        _serve = DbFirstProcess.Start(
            new Dictionary<string, string>
            {
                // The backfill stays where the test left it: no embed-pending run finishes it meanwhile.
                ["Jobs__embed-pending__Enabled"] = "false",
                ["Gallery__ThumbnailCache"] = Path.Combine(_folder.FullName, "thumbnails"),
                ["Logging__LogLevel__Default"] = "Warning",
                ["ANTHROPIC_API_KEY"] = "",
            },
            "serve", "--urls", address.ToString().TrimEnd('/'), "--model", TestPaths.TinyClipModel, "--connection", _database.ConnectionString);
        await LoopbackServe.WaitHealthyAsync(_serve!, address, TimeSpan.FromSeconds(90));

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFactAttribute.Chromium,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            Headless = true,
            Timeout = 60_000,
        });
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = address.ToString(), ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
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
        _serve?.Dispose();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        _folder.Delete(recursive: true);
    }

    [BrowserFact]
    public async Task DashboardHomeAndOperatorView_ShowTheStagedModelsBackfill_NameAsText()
    {
        var counts = $"{Backfilled} / {_images} ({Math.Floor(1000.0 * Backfilled / _images) / 10:F1}%)";

        await _page.GotoAsync("/hangfire");
        var dashboard = await _page.InnerTextAsync("body");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(s_screenshots, "dashboard-backfill.png"), FullPage = true });

        await _page.GotoAsync("/operator");
        var status = await _page.InnerTextAsync("#status");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(s_screenshots, "operator-backfill.png"), FullPage = true });

        Assert.Contains("Model backfill", dashboard);
        Assert.Contains($"{HostileName}: {counts}", dashboard);
        Assert.Contains($"{HostileName}: {counts}", status);
        Assert.Equal(0, await _page.Locator("img[src=x]").CountAsync());
        Assert.Empty(_dialogs);
    }

    private static async Task RunAsync(params string[] args)
    {
        var run = await CliRun.InvokeAsync(args);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"dbfirst {string.Join(' ', args)} failed: {run.Error}");
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
