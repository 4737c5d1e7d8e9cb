using DbFirst.Indexing;
using DbFirst.Search;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Search;

/// <summary>
/// <c>gallery.search</c> and friends from plain SQL, as <c>gallery_analyst</c>, through a running host
/// serving <c>/embed/text</c> with a deterministic fake encoder.
/// </summary>
public sealed class TextSearchTests : IAsyncLifetime
{
    private const int Count = 400;
    private readonly FakeTextEmbedder _embedder = new();
    private TestDatabase _database = null!;
    private TextEncoderHost _host = null!;
    private long[] _ids = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        var vectors = SyntheticGallery.GaussianMixture(Count, 512, 8, seed: 3);
        // The text encoder must be the active model's: gallery.search compares only one model's vectors.
        await TestEmbeddings.RegisterActiveAsync(_database, _embedder.Model, 512);
        await using (var dataSource = _database.CreateDataSource())
        {
            _ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 8);
        }

        for (var i = 0; i < Count; i++)
        {
            _embedder.Teach($"image {i}", vectors[i]);
        }

        await _database.ExecuteAsync(
            $"""
            UPDATE gallery.image_gallery SET description = 'A red car parked by the sea at dusk.' WHERE id = {_ids[17]};
            UPDATE gallery.image_gallery SET description = 'A small red boat near the sea.' WHERE id = {_ids[18]};
            UPDATE gallery.image_gallery SET description = 'A cat asleep on a blue sofa.' WHERE id = {_ids[19]};
            """);
        _host = await TextEncoderHost.StartAsync(_embedder, _database.ConnectionString);
        await SetEmbedUrlAsync(_host.EmbedUrl);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Search_AsAnalyst_ThroughTheHost_FindsTheImage_AndNeverReencodesARepeatedQuery()
    {
        var first = await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 17");
        var callsAfterFirst = _embedder.Calls;
        var second = await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 17");

        Assert.Equal(_ids[17], first[0].Id);
        Assert.True(first[0].Distance < 1e-4);
        Assert.Equal(3, first.Count);
        Assert.Equal(first, second);
        Assert.Equal(1, callsAfterFirst);
        Assert.Equal(callsAfterFirst, _embedder.Calls);
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.text_embeddings WHERE query = 'image 17' AND model = 'fake-text-encoder'"));
    }

    [Fact]
    public async Task Search_WithTheHostDown_FailsWithOneMessageNamingDbfirstServe()
    {
        await SetEmbedUrlAsync("http://127.0.0.1:9/embed/text");

        var error = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync("SELECT id, distance FROM gallery.search($1)", "an uncached query"));
        await using var dataSource = _database.CreateDataSource();
        var viaCore = await Assert.ThrowsAsync<GalleryException>(() => new GallerySearch(dataSource).SearchTextAsync("another uncached query", 5));

        Assert.Equal(GallerySearch.TextEncoderUnavailable, error.SqlState);
        Assert.Contains("start it with `dbfirst serve`", error.MessageText);
        Assert.DoesNotContain("\n", error.MessageText);
        Assert.Contains("dbfirst serve", viaCore.Message);
    }

    [Fact]
    public async Task CachedQuery_StillAnswers_WithTheHostDown()
    {
        await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 5");
        await SetEmbedUrlAsync("http://127.0.0.1:9/embed/text");

        var hits = await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 5");

        Assert.Equal(_ids[5], hits[0].Id);
    }

    [Theory]
    [InlineData("x'); DROP TABLE gallery.image_gallery; --")]
    [InlineData("$$; DELETE FROM gallery.image_gallery; $$")]
    [InlineData("' OR 1=1 --")]
    [InlineData("\"red car\" -boat OR ) ( & | ! :*")]
    [InlineData("\\x00\\'; SELECT pg_sleep(10); --")]
    public async Task InjectionAttempts_InQueryText_AreInert(string text)
    {
        var search = await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 5)", text);
        var descriptions = await AsAnalystAsync("SELECT id, rank FROM gallery.search_descriptions($1, 5)", text);
        var hybrid = await AsAnalystAsync("SELECT id, score FROM gallery.hybrid_search($1, 5)", text);

        Assert.Equal(5, search.Count);
        Assert.True(descriptions.Count <= 5);
        Assert.Equal(5, hybrid.Count);
        Assert.Equal((long)Count, await _database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
        Assert.Equal(text, await _database.ScalarAsync<string>($"SELECT query FROM gallery.text_embeddings WHERE query = '{text.Replace("'", "''")}'"));
    }

    [Fact]
    public async Task SearchDescriptions_RanksFullTextMatches_AndHybridFusesBothRankings()
    {
        var descriptions = await AsAnalystAsync("SELECT id, rank FROM gallery.search_descriptions($1, 10)", "red sea");
        _embedder.Teach("red car by the sea", _embedder.Embed("image 17"));
        var hybrid = await AsAnalystAsync("SELECT id, score FROM gallery.hybrid_search($1, 5)", "red car by the sea");

        Assert.Equal([_ids[17], _ids[18]], descriptions.Select(d => d.Id).Order());
        Assert.Equal(_ids[17], hybrid[0].Id);
        Assert.Equal(2.0 / 61, hybrid[0].Distance, 5);
    }

    [Theory]
    [InlineData("INSERT INTO gallery.image_gallery (path) VALUES ('/x.jpg')")]
    [InlineData("UPDATE gallery.image_gallery SET path = path")]
    [InlineData("DELETE FROM gallery.image_gallery")]
    [InlineData("TRUNCATE gallery.image_gallery")]
    [InlineData("UPDATE gallery.settings SET value = 'http://evil/' WHERE key = 'embed_url'")]
    [InlineData("SELECT * FROM gallery.settings")]
    [InlineData("INSERT INTO gallery.text_embeddings (model, query, embedding) VALUES ('m', 'q', '[1]')")]
    [InlineData("DELETE FROM gallery.text_embeddings")]
    [InlineData("DELETE FROM gallery.index_builds")]
    [InlineData("SELECT * FROM gallery_encoder.fetch('http://127.0.0.1:1/embed/text', 'x', 100, '\\x00')")]
    [InlineData("SELECT * FROM gallery.encoder_key")]
    [InlineData("SELECT gallery.publish_embed_url('http://127.0.0.1:1/embed/text')")]
    [InlineData("CREATE TABLE gallery.mine (id int)")]
    [InlineData("CREATE INDEX ON gallery.image_gallery (path)")]
    public async Task Analyst_CannotChangeAnything(string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync(sql));

        Assert.Contains(error.SqlState, new[] { PostgresErrorCodes.InsufficientPrivilege, "42501" });
    }

    [Fact]
    public async Task Operator_TunesOtherSettings_ButCannotRepointTheEncoder_OrWriteImages()
    {
        var before = await _database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_url'");

        await AsRoleAsync("gallery_operator", "UPDATE gallery.settings SET value = '4000' WHERE key = 'embed_timeout_ms'");
        await AsRoleAsync("gallery_operator", "UPDATE gallery.settings SET value = 'file:///etc/passwd' WHERE key = 'embed_url'");
        await AsRoleAsync("gallery_operator", "DELETE FROM gallery.settings WHERE key = 'embed_url'");
        var insert = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync(
            "gallery_operator", "INSERT INTO gallery.settings (key, value) VALUES ('embed_url', 'file:///etc/passwd') ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
        var images = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync("gallery_operator", "DELETE FROM gallery.image_gallery"));

        Assert.Equal("4000", await _database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_timeout_ms'"));
        Assert.Equal(before, await _database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'embed_url'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, insert.SqlState);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, images.SqlState);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://127.0.0.1:21/embed/text")]
    [InlineData("http://127.0.0.1/embed/text")]
    [InlineData("http://localhost:5000/embed/text")]
    [InlineData("http://10.0.0.7:5000/embed/text")]
    [InlineData("http://user:secret@127.0.0.1:5000/embed/text")]
    public async Task Search_RefusesAnEmbedUrlThatIsNotLoopbackHttpWithAPort_WithoutOpeningIt(string url)
    {
        // Only the owner can write such a URL at all; even then the function opens nothing.
        await SetEmbedUrlAsync(url);

        var error = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync("SELECT id, distance FROM gallery.search($1)", "an uncached query"));

        Assert.Equal(GallerySearch.TextEncoderUnavailable, error.SqlState);
        Assert.Contains("it must be http://<loopback address>:<port>/embed/text", error.MessageText);
        Assert.DoesNotContain("root:", error.MessageText);
    }

    [Fact]
    public async Task Search_AgainstAServerThatDripsBytes_GivesUpAtEmbedTimeout()
    {
        // Accepts, then sends one byte every 200 ms forever: per-read timeouts alone would never fire.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var drip = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = client.GetStream();
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync("H"u8.ToArray(), stop.Token);
                await Task.Delay(200, stop.Token);
            }
        });
        await SetEmbedUrlAsync($"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}/embed/text");
        await _database.ExecuteAsync("UPDATE gallery.settings SET value = '1000' WHERE key = 'embed_timeout_ms'");

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync("SELECT id, distance FROM gallery.search($1)", "a slow answer"));
        watch.Stop();
        await stop.CancelAsync();
        listener.Stop();
        await Task.WhenAny(drip);

        Assert.Equal(GallerySearch.TextEncoderUnavailable, error.SqlState);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task PortSquatter_LearnsNoQuery_AndCannotChangeWhatSearchReturns()
    {
        // A process on the published port answering every request with a planted vector (image 3's).
        var planted = System.Text.Json.JsonSerializer.Serialize(new { model = _embedder.Model, dim = 512, embedding = _embedder.Embed("image 3"), proof = new string('0', 64) });
        await using var squatter = await FakeEncoder.StartAsync(planted);
        await SetEmbedUrlAsync(squatter.EmbedUrl);

        var whileSquatted = await Assert.ThrowsAsync<PostgresException>(() => AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 42"));
        await SetEmbedUrlAsync(_host.EmbedUrl);
        var afterwards = await AsAnalystAsync("SELECT id, distance FROM gallery.search($1, 3)", "image 42");

        Assert.Equal(GallerySearch.TextEncoderUnavailable, whileSquatted.SqlState);
        Assert.Contains("could not prove it is this database's `dbfirst serve`", whileSquatted.MessageText);
        Assert.All(squatter.Bodies, body => Assert.DoesNotContain("image 42", body));
        Assert.NotEmpty(squatter.Bodies);
        Assert.Equal(_ids[42], afterwards[0].Id);
        Assert.Equal(0L, await _database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.text_embeddings WHERE query = 'image 42' AND embedding <=> (SELECT e.embedding FROM {TestEmbeddings.Active} WHERE e.image_id = {_ids[3]}) < 1e-4"));
    }

    [Fact]
    public async Task EmbedEndpoint_AnswersModelDimAndEmbedding()
    {
        using var client = new HttpClient();

        using var response = await client.PostAsync(_host.EmbedUrl, new StringContent("{\"text\":\"image 3\"}", System.Text.Encoding.UTF8, "application/json"));
        var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        using var empty = await client.PostAsync(_host.EmbedUrl, new StringContent("{\"text\":\"  \"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("fake-text-encoder", body.GetProperty("model").GetString());
        Assert.Equal(512, body.GetProperty("dim").GetInt32());
        Assert.Equal(512, body.GetProperty("embedding").GetArrayLength());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, empty.StatusCode);
    }

    private Task SetEmbedUrlAsync(string url) =>
        _database.ExecuteAsync($"UPDATE gallery.settings SET value = '{url}' WHERE key = 'embed_url'");

    private Task<List<(long Id, double Distance)>> AsAnalystAsync(string sql, params object[] parameters) => AsRoleAsync("gallery_analyst", sql, parameters);

    // psql's "SET ROLE gallery_analyst" on a superuser connection: every check runs with the analyst's rights.
    private async Task<List<(long Id, double Distance)>> AsRoleAsync(string role, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using (var setRole = new NpgsqlCommand($"SET ROLE {role}", connection))
        {
            await setRole.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        var rows = new List<(long, double)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (reader.FieldCount >= 2 && reader.GetFieldType(0) == typeof(long))
            {
                rows.Add((reader.GetInt64(0), Convert.ToDouble(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        return rows;
    }
}
