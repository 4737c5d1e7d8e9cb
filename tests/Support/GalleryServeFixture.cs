using System.Net;
using DbFirst.Tests.Embedding;

namespace DbFirst.Tests.Support;

/// <summary>
/// A real <c>dbfirst serve</c> (child process, tiny test model, Claude faked on loopback) on a migrated database
/// holding two images per colour, a truncated JPEG whose embedding failed, and a file named like an HTML tag; and a
/// second one on the same database without an API key.
/// </summary>
public sealed class GalleryServeFixture : IAsyncLifetime
{
    /// <summary>The file name the page must show as text, never as markup.</summary>
    public const string HostileName = "<img src=x onerror=alert(1)>.jpg";

    /// <summary>The fake Anthropic key the first server holds; no page may show it.</summary>
    public const string ApiKey = "sk-ant-test-gallery-page-key";

    private TestDatabase? _database;
    private DbFirstProcess? _serve;
    private DbFirstProcess? _serveWithoutKey;
    private DirectoryInfo? _folder;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("fixture not initialised");

    /// <summary>The page's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The second server's address: the same gallery, no <c>ANTHROPIC_API_KEY</c>.</summary>
    public Uri WithoutKeyAddress { get; private set; } = null!;

    internal FakeMessagesApi Claude { get; private set; } = null!;

    public string CorruptPath { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _folder = Directory.CreateTempSubdirectory("dbfirst-gallery-page-");
        var photos = Directory.CreateDirectory(Path.Combine(_folder.FullName, "photos")).FullName;
        await Run("samples", "colours", Path.Combine(photos, "colours"), "--per-colour", "2");
        File.Copy(Path.Combine(photos, "colours", "green.jpg"), Path.Combine(photos, HostileName));
        using (var gradient = TestImages.Gradient(480, 320))
        {
            // A valid header with the scan cut short: ingest registers it, the embedding fails for good.
            var jpeg = TestImages.EncodeJpeg(gradient);
            CorruptPath = Path.Combine(photos, "corrupt.jpg");
            await File.WriteAllBytesAsync(CorruptPath, jpeg.AsSpan(0, jpeg.Length / 3).ToArray());
        }

        await Run("ingest", photos, "--connection", Database.ConnectionString);
        await Run("embed", "--model", TestPaths.TinyClipModel, "--connection", Database.ConnectionString);

        Claude = await FakeMessagesApi.StartAsync(ApiKey);
        (_serve, BaseAddress) = StartServe(new Dictionary<string, string> { ["ANTHROPIC_API_KEY"] = ApiKey, ["ANTHROPIC_BASE_URL"] = Claude.BaseUrl });
        (_serveWithoutKey, WithoutKeyAddress) = StartServe(new Dictionary<string, string> { ["ANTHROPIC_API_KEY"] = "" });
        await Task.WhenAll(LoopbackServe.WaitHealthyAsync(_serve, BaseAddress, TimeSpan.FromSeconds(90)), LoopbackServe.WaitHealthyAsync(_serveWithoutKey, WithoutKeyAddress, TimeSpan.FromSeconds(90)));
    }

    /// <summary>A client for the page (loopback, so local-only access lets it in); cookies kept for antiforgery.</summary>
    public HttpClient CreateClient() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(60),
    };

    public async Task DisposeAsync()
    {
        _serve?.Dispose();
        _serveWithoutKey?.Dispose();
        if (Claude is not null)
        {
            await Claude.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        _folder?.Delete(recursive: true);
    }

    private static async Task Run(params string[] args)
    {
        var run = await CliRun.InvokeAsync(args);
        if (run.ExitCode != 0)
        {
            throw new InvalidOperationException($"dbfirst {string.Join(' ', args)} failed: {run.Error}");
        }
    }

    private (DbFirstProcess Process, Uri Address) StartServe(Dictionary<string, string> environment)
    {
        var address = LoopbackServe.FreeAddress();
        environment["Gallery__ThumbnailCache"] = Path.Combine(_folder!.FullName, "thumbnails");
        environment["Logging__LogLevel__Default"] = "Warning";
        var process = DbFirstProcess.Start(
            environment, "serve", "--urls", address.ToString().TrimEnd('/'), "--model", TestPaths.TinyClipModel, "--connection", Database.ConnectionString);
        return (process, address);
    }
}
