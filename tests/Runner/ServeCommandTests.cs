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
        var address = LoopbackServe.FreeAddress();
        var url = address.ToString().TrimEnd('/');
        using var serve = DbFirstProcess.Start(
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Gallery"] = database.ConnectionString,
                ["Clip__ModelPath"] = TestPaths.TinyClipModel,
                ["Hangfire__WorkerCount"] = "1",
            },
            "serve", "--urls", url);

        var health = await LoopbackServe.WaitHealthyAsync(serve, address, TimeSpan.FromSeconds(90));
        var rows = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.search('a red photo', 3)");

        Assert.Equal(3L, rows);
        Assert.Equal("ok", health.GetProperty("code").GetString());
        Assert.Equal($"{url}/embed/text", await database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_url'"));
        Assert.False(string.IsNullOrEmpty(health.GetProperty("pgvector").GetProperty("installed").GetString()));
    }
}
