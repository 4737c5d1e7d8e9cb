using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DbFirst.Indexing;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

/// <summary><c>dbfirst serve</c> as a real process, used the way a script would: start it, wait for healthy, search.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task OnceHealthy_GallerySearchInSql_AnswersAtOnce()
    {
        await using var database = await TestDatabase.CreateAsync();
        // The served text encoder must be the active model's: gallery.search compares one model's vectors only.
        await TestEmbeddings.RegisterActiveAsync(database, "tiny-clip-test", 512);
        await using (var dataSource = database.CreateDataSource())
        {
            await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(20, 512, 2, seed: 5), 2);
        }

        // A dead address, as after a serve on another port: only this serve's own publishing can make search work.
        await database.ExecuteAsync("UPDATE gallery.settings SET value = 'http://127.0.0.1:9/embed/text' WHERE key = 'embed_url'");
        var url = $"http://127.0.0.1:{FreePort()}";
        using var serve = DbFirstProcess.Start(
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Gallery"] = database.ConnectionString,
                ["Clip__ModelPath"] = TestPaths.TinyClipModel,
                ["Hangfire__WorkerCount"] = "1",
            },
            "serve", "--urls", url);

        var health = await WaitForHealthyAsync(serve, url, TimeSpan.FromSeconds(90));
        var rows = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.search('a red photo', 3)");

        Assert.Equal(3L, rows);
        Assert.Equal("ok", health.GetProperty("code").GetString());
        Assert.Equal($"{url}/embed/text", await database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_url'"));
        Assert.False(string.IsNullOrEmpty(health.GetProperty("pgvector").GetProperty("installed").GetString()));
    }

    private static async Task<JsonElement> WaitForHealthyAsync(DbFirstProcess serve, string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        var seen = new List<string>();
        while (clock.Elapsed < timeout)
        {
            if (serve.HasExited)
            {
                var (exitCode, _, error) = await serve.WaitAsync(TimeSpan.FromSeconds(5));
                Assert.Fail($"serve exited with {exitCode}: {error}");
            }

            try
            {
                using var response = await http.GetAsync($"{url}/health");
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                seen.Add(body.GetProperty("code").GetString()!);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return body;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException exception) when (exception.InnerException is TimeoutException)
            {
                // Listening but slow to answer (a loaded machine: once over 5 s beside an index build); ask again.
                seen.Add("(no answer within 5 s)");
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"serve did not become healthy within {timeout}; /health said: {string.Join(", ", seen.Distinct())}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
