using System.Net;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Runner.Hosting;

/// <summary>
/// <c>dbfirst serve</c> while its PostgreSQL restarts in the middle of an embedding run: the job resumes, the
/// dashboard recovers, the rows claimed at the time come back, and nothing is embedded twice or lost.
/// </summary>
[Collection(ServerRestartCollection.Name)]
public sealed class ServeSurvivesRestartTests : IDisposable
{
    private const int Rows = 400;
    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-restart-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [RestartableServerFact]
    public async Task PostgresRestartDuringServe_LosesNothing_EmbedsNothingTwice_DashboardRecovers()
    {
        await using var database = await TestDatabase.CreateAsync();
        for (var i = 0; i < Rows; i++)
        {
            TestImages.WriteJpeg(Path.Combine(_directory, $"photo-{i:D4}.jpg"), 320, 240, seed: i);
        }

        var url = LoopbackServe.FreeAddress().ToString().TrimEnd('/');
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Gallery"] = database.ConnectionString,
            ["Clip__ModelPath"] = TestPaths.TinyClipModel,
            ["Embedding__BatchSize"] = "8",
            ["DOTNET_gcServer"] = "0",
        };
        using var serve = DbFirstProcess.Start(environment, "serve", "--urls", url);
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
        await WaitUntilAsync(async () => await StatusAsync(http, "/health") == HttpStatusCode.OK, "serve never became healthy", serve);

        // Ingest enqueues embed-pending, which the server picks up.
        using (var ingest = DbFirstProcess.Start(environment, "ingest", _directory, "--connection", database.ConnectionString))
        {
            var (exitCode, _, error) = await ingest.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(exitCode == 0, error);
        }

        await WaitUntilAsync(async () => await EmbeddedAsync(database) >= 24, "the job never embedded a batch", serve);
        var before = await EmbeddedAtAsync(database);

        await TestCluster.RestartAsync();

        await WaitUntilAsync(async () => await EmbeddedAsync(database) == Rows, "the embedding run did not resume after the restart", serve, TimeSpan.FromMinutes(3));
        var after = await EmbeddedAtAsync(database);
        Assert.InRange(before.Count, 24, Rows - 1);
        Assert.Equal(Rows, after.Count);
        Assert.All(before, row => Assert.Equal(row.Value, after[row.Key]));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts > 0 OR embed_error IS NOT NULL"));
        Assert.Equal(0L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = '{database.Name}' AND l.locktype = 'tuple'"));
        await WaitUntilAsync(async () => await StatusAsync(http, "/hangfire") == HttpStatusCode.OK, "the dashboard did not recover", serve);
        Assert.False(serve.HasExited);
        serve.KillHard();
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http, string path)
    {
        try
        {
            using var response = await http.GetAsync(path);
            return response.StatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure, DbFirstProcess serve, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            Assert.False(serve.HasExited, $"serve exited: {failure}");
            bool met;
            try
            {
                met = await condition();
            }
            catch (NpgsqlException)
            {
                met = false;
            }

            if (met)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }

    private static Task<long> EmbeddedAsync(TestDatabase database) =>
        TestEmbeddings.CountAsync(database);

    private static async Task<Dictionary<long, DateTime>> EmbeddedAtAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT image_id, embedded_at FROM {TestEmbeddings.Active}", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var result = new Dictionary<long, DateTime>();
        while (await reader.ReadAsync())
        {
            result[reader.GetInt64(0)] = reader.GetDateTime(1);
        }

        return result;
    }
}
