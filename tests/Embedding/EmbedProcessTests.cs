using System.Text.Json;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Embedding;

/// <summary>
/// <c>dbfirst embed</c> as real processes with the tiny test model: killed with SIGKILL in the middle of a batch,
/// and two at once over the same rows.
/// </summary>
public sealed class EmbedProcessTests : IDisposable
{
    private const string ApplicationName = "dbfirst-embed-child";
    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-embed-process-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task KilledMidBatch_AfterRestart_EveryRowEmbeddedExactlyOnce_NoneStuck()
    {
        await using var database = await TestDatabase.CreateAsync();
        const int rows = 480;
        await GalleryRows.InsertAsync(database, WriteJpegs(rows, 640, 480));
        var environment = Environment(database, batchSize: 16);

        // Let the first batches commit, then kill while a claim transaction is open.
        using (var victim = DbFirstProcess.Start(environment, Args(database)))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                Assert.False(victim.HasExited, "the child finished before it could be killed; give it more work");
                Assert.True(DateTime.UtcNow < deadline, "the child never committed a batch");
                if (await EmbeddedAsync(database) >= 16 && await OpenClaimsAsync(database) > 0)
                {
                    break;
                }

                await Task.Delay(10);
            }

            victim.KillHard();
            await victim.WaitAsync(TimeSpan.FromSeconds(10));
        }

        await WaitForNoSessionsAsync(database);
        var before = await EmbeddedAtAsync(database);
        Assert.InRange(before.Count, 16, rows - 1);

        using var restart = DbFirstProcess.Start(environment, Args(database));
        var (exitCode, stdout, stderr) = await restart.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(exitCode == 0, stderr);
        using var summary = JsonDocument.Parse(stdout);
        Assert.Equal(rows - before.Count, summary.RootElement.GetProperty("embedded").GetInt32());
        Assert.Equal(0, summary.RootElement.GetProperty("failed").GetInt32());
        var after = await EmbeddedAtAsync(database);
        Assert.Equal(rows, after.Count);
        Assert.All(before, row => Assert.Equal(row.Value, after[row.Key]));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT (SELECT count(*) FROM gallery.embedding_pending) + (SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts > 0)"));
    }

    [Fact]
    public async Task TwoProcessesAtOnce_2000Rows_EachRowEmbeddedOnce()
    {
        await using var database = await TestDatabase.CreateAsync();
        const int rows = 2000;
        await GalleryRows.InsertAsync(database, WriteJpegs(rows, 256, 192));
        var environment = Environment(database, batchSize: 32);

        using var first = DbFirstProcess.Start(environment, Args(database));
        using var second = DbFirstProcess.Start(environment, Args(database));
        var results = await Task.WhenAll(first.WaitAsync(TimeSpan.FromMinutes(5)), second.WaitAsync(TimeSpan.FromMinutes(5)));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Error));
        var embedded = results.Select(r => JsonDocument.Parse(r.Out).RootElement.GetProperty("embedded").GetInt32()).ToList();
        Assert.Equal(rows, embedded.Sum());
        Assert.Equal((long)rows, await database.ScalarAsync<long>($"SELECT count(*) FROM {TestEmbeddings.Active} JOIN gallery.image_gallery g ON g.id = e.image_id WHERE g.embed_attempts = 0"));
    }

    [Fact]
    public async Task TwoProcessesDuringABackfill_KeepTheActiveModelCurrentThenBackfill_EachRowAndModelOnce()
    {
        await using var database = await TestDatabase.CreateAsync();
        const int rows = 400, added = 40;
        await GalleryRows.InsertAsync(database, WriteJpegs(rows, 128, 96));
        var environment = Environment(database, batchSize: 16);
        using (var first = DbFirstProcess.Start(environment, Args(database)))
        {
            var (exitCode, _, stderr) = await first.WaitAsync(TimeSpan.FromMinutes(3));
            Assert.True(exitCode == 0, stderr);
        }

        await database.ExecuteAsync($"SELECT gallery.stage_model('tiny-clip-test-384', 384, '{TestPaths.TinyClip384Model}', 'immich')");
        await GalleryRows.InsertAsync(database, WriteJpegs(added, 128, 96, "added"));

        using var one = DbFirstProcess.Start(environment, Args(database));
        using var two = DbFirstProcess.Start(environment, Args(database));
        var results = await Task.WhenAll(one.WaitAsync(TimeSpan.FromMinutes(5)), two.WaitAsync(TimeSpan.FromMinutes(5)));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, r.Error));
        var summaries = results.Select(r => JsonDocument.Parse(r.Out).RootElement).ToList();
        Assert.All(summaries, s => Assert.Equal("tiny-clip-test", s.GetProperty("model").GetString()));
        Assert.All(summaries, s => Assert.Equal("tiny-clip-test-384", s.GetProperty("staged").GetProperty("model").GetString()));
        Assert.Equal(added, summaries.Sum(s => s.GetProperty("embedded").GetInt32()));
        Assert.Equal(rows + added, summaries.Sum(s => s.GetProperty("staged").GetProperty("embedded").GetInt32()));
        Assert.All(summaries, s => Assert.Equal(0, s.GetProperty("problems").GetArrayLength()));
        Assert.Equal("tiny-clip-test:440:440:440,tiny-clip-test-384:440:440:440", await database.ScalarAsync<string>("""
            SELECT string_agg(m.name || ':' || c.embedded || ':' || e.n || ':' || e.images, ',' ORDER BY m.id)
            FROM gallery.clip_models m
            JOIN gallery.model_coverage() c ON c.model_id = m.id
            JOIN (SELECT model_id, count(*) AS n, count(DISTINCT image_id) AS images FROM gallery.image_embeddings GROUP BY model_id) e ON e.model_id = m.id
            """));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts > 0"));
    }

    private static string[] Args(TestDatabase database) =>
        ["embed", "--json", "--model", TestPaths.TinyClipModel, "--connection", $"{database.ConnectionString};Application Name={ApplicationName}"];

    private static Dictionary<string, string> Environment(TestDatabase database, int batchSize) => new()
    {
        ["Embedding__BatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["DOTNET_gcServer"] = "0",
    };

    private List<string> WriteJpegs(int count, int width, int height, string prefix = "photo")
    {
        var paths = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(_directory, $"{prefix}-{i:D5}.jpg");
            TestImages.WriteJpeg(path, width, height, seed: i);
            paths.Add(path);
        }

        return paths;
    }

    private static Task<long> EmbeddedAsync(TestDatabase database) =>
        TestEmbeddings.CountAsync(database);

    // A claim is a transaction of the child that holds a transaction id (its row locks) and has not ended.
    private static Task<long> OpenClaimsAsync(TestDatabase database) =>
        database.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{ApplicationName}' AND backend_xid IS NOT NULL");

    private static async Task WaitForNoSessionsAsync(TestDatabase database)
    {
        for (var i = 0; i < 500 && await database.ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{ApplicationName}'") > 0; i++)
        {
            await Task.Delay(20);
        }
    }

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
