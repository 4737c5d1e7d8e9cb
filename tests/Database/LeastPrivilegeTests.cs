using System.Net;
using System.Net.Sockets;
using System.Text;
using DbFirst.Database;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Database;

/// <summary>Issue 9's reproductions against the real server: no superuser at run time, no published password, a bounded encoder endpoint.</summary>
public sealed class LeastPrivilegeTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _fixture;

    public LeastPrivilegeTests(PostgresFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task PublishedPassword_NoLongerLogsIn()
    {
        var published = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString)
        {
            Username = "dbfirst",
            Password = "dbfirst",
            Passfile = null,
            Pooling = false,
        };
        await using var connection = new NpgsqlConnection(published.ConnectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.OpenAsync());

        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Fact]
    public async Task NoDbFirstLogin_IsASuperuser_AndTcpLoginsUseScram()
    {
        var superusers = await _fixture.Database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_roles WHERE rolsuper AND rolname IN ('dbfirst', 'dbfirst_owner', 'dbfirst_app', 'gallery_analyst', 'gallery_operator', current_user)");
        var encryption = await _fixture.Database.ScalarAsync<string>("SHOW password_encryption");

        Assert.Equal(0L, superusers);
        Assert.Equal("scram-sha-256", encryption);
    }

    [Fact]
    public async Task VectorExtension_IsTheFixedRelease_0_8_6_OrLater()
    {
        var version = await _fixture.Database.ScalarAsync<string>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");

        Assert.True(Version.Parse(version!) >= new Version(0, 8, 6), $"pgvector {version} is below 0.8.6: run scripts/setup.sh, then scripts/db.sh start");
    }

    [Fact]
    public async Task RuntimeLogin_IngestsPrunesQueuesRequestsAndFillsNeighbours_WithTheGrantsTheRoleTableLists()
    {
        await using var database = await TestDatabase.CreateAsync();
        var runtime = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = LocalCluster.RuntimeLogin }.ConnectionString;
        var folder = Directory.CreateTempSubdirectory("dbfirst-runtime-");
        try
        {
            TestImages.WriteJpeg(Path.Combine(folder.FullName, "a.jpg"), 64, 48, seed: 1);
            TestImages.WriteJpeg(Path.Combine(folder.FullName, "b.jpg"), 64, 48, seed: 2);
            await using var dataSource = GalleryDataSource.Create(runtime);
            var ingester = new DbFirst.Ingest.GalleryIngester(dataSource);
            await ingester.IngestAsync(new DbFirst.Ingest.IngestOptions([folder.FullName]));
            File.Delete(Path.Combine(folder.FullName, "b.jpg"));

            var report = await ingester.IngestAsync(new DbFirst.Ingest.IngestOptions([folder.FullName], Prune: true));
            await using var requests = dataSource.CreateCommand(
                "SELECT gallery.request_description(id) AND gallery.request_reembed(id) FROM gallery.image_gallery");
            var queued = await requests.ExecuteScalarAsync();
            await using var fill = dataSource.CreateCommand("SELECT gallery.fill_neighbours(10)");
            await fill.ExecuteScalarAsync();

            Assert.Equal(1, report.Pruned);
            Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.prune_log"));
            Assert.Equal(true, queued);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task RuntimeLogin_EmbedsTheActiveModelAndBackfillsTheStagedOne()
    {
        await using var database = await TestDatabase.CreateAsync();
        var runtime = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = LocalCluster.RuntimeLogin }.ConnectionString;
        var folder = Directory.CreateTempSubdirectory("dbfirst-runtime-embed-");
        try
        {
            TestImages.WriteJpeg(Path.Combine(folder.FullName, "a.jpg"), 64, 48, seed: 1);
            await GalleryRows.InsertAsync(database, [Path.Combine(folder.FullName, "a.jpg")]);
            await database.ExecuteAsync($"""
                SELECT gallery.ensure_active_model('active', 512);
                SELECT gallery.stage_model('tiny-clip-test-384', 384, '{TestPaths.TinyClip384Model}', 'immich');
                """);
            await using var dataSource = GalleryDataSource.Create(runtime);
            using var embedding = new DbFirst.Embedding.RegistryEmbedding(dataSource, new CountingEmbedder("active"), new DbFirst.Embedding.EmbeddingOptions());

            var result = await embedding.RunAsync(new DbFirst.Embedding.EmbeddingRequest());

            Assert.Equal((1, 1), (result.Active.Embedded, result.Staged?.Embedded));
            Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.embedding_pending"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task RunningServe_HasNoSuperuserSession_AndPublishesALoopbackUrl()
    {
        var database = _fixture.Database;
        var runtime = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = LocalCluster.RuntimeLogin }.ConnectionString;
        var url = LoopbackServe.FreeAddress().ToString().TrimEnd('/');
        using var serve = DbFirstProcess.Start(
            new Dictionary<string, string> { ["ConnectionStrings__GalleryOwner"] = database.ConnectionString },
            "serve", "--urls", url, "--connection", runtime, "--model", TestPaths.TinyClipModel);
        try
        {
            var published = await WaitForAsync(
                () => database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_url'"),
                value => value == $"{url}{EmbedTextEndpoint.Route}",
                TimeSpan.FromSeconds(90));
            var sessions = await database.ScalarAsync<string>(
                $"""
                SELECT string_agg(DISTINCT a.usename || ':' || r.rolsuper::text, ',')
                FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
                WHERE a.datname = '{database.Name}' AND a.pid <> pg_backend_pid()
                """);

            Assert.Equal($"{url}{EmbedTextEndpoint.Route}", published);
            Assert.Contains($"{LocalCluster.RuntimeLogin}:false", sessions);
            Assert.DoesNotContain(":true", sessions);
        }
        finally
        {
            serve.KillHard();
        }
    }

    [Fact]
    public async Task EmbedText_AOneMegabyteBody_Gets413_BeforeItIsSent()
    {
        await using var host = await TextEncoderHost.StartAsync(new FakeTextEmbedder(), _fixture.ConnectionString);
        var uri = new Uri(host.EmbedUrl);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, uri.Port);
        var stream = client.GetStream();

        // Announce 1 MB, send the headers and 1 KB of it, then only listen: the answer must come without the rest.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST {uri.AbsolutePath} HTTP/1.1\r\nHost: {uri.Authority}\r\nContent-Type: application/json\r\nContent-Length: {1024 * 1024}\r\n\r\n"));
        await stream.WriteAsync(new byte[1024]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, timeout.Token);

        Assert.StartsWith("HTTP/1.1 413", Encoding.ASCII.GetString(buffer, 0, read));
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(250);
        }
    }
}
