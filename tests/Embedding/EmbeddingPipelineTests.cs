using DbFirst.Embedding;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Embedding;

public sealed class EmbeddingPipelineTests : IDisposable
{
    private static readonly EmbeddingOptions s_fast = new() { BatchSize = 8, RetryDelay = TimeSpan.Zero };

    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task GoodAndHostileFiles_GoodOnesEmbedded_BadOnesCarryTheirError_NothingPending()
    {
        await using var database = await TestDatabase.CreateAsync();
        var good = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var path = Path.Combine(_directory, $"good-{i}.jpg");
            TestImages.WriteJpeg(path, 320 + i * 10, 240, seed: i);
            good.Add(path);
        }

        good.Add(Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "images", "cmyk.jpg"));
        good.Add(Path.Combine(TestPaths.RepoRoot, "tests", "fixtures", "images", "rgb16.png"));
        var hostile = new Dictionary<string, string>
        {
            ["empty.jpg"] = "cannot decode: the file is empty",
            ["text.jpg"] = "cannot decode: not a recognised image format",
            ["truncated.jpg"] = "cannot decode",
            ["bomb.png"] = "over the 100 MP limit",
            ["missing.jpg"] = "file not found",
        };
        File.WriteAllBytes(Path.Combine(_directory, "empty.jpg"), []);
        File.WriteAllText(Path.Combine(_directory, "text.jpg"), "this is not a picture");
        File.WriteAllBytes(Path.Combine(_directory, "truncated.jpg"), File.ReadAllBytes(good[0])[..200]);
        File.WriteAllBytes(Path.Combine(_directory, "bomb.png"), TestPng.WithHeader(60000, 60000));
        await GalleryRows.InsertAsync(database, good.Concat(hostile.Keys.Select(name => Path.Combine(_directory, name))));
        var embedder = new CountingEmbedder(decodeImages: true);
        await using var dataSource = database.CreateDataSource();
        var pipeline = new EmbeddingPipeline(dataSource, embedder, s_fast with { MaxAttempts = 2 });

        var result = await pipeline.RunAsync(new EmbeddingRequest());

        Assert.Equal(good.Count, result.Embedded);
        Assert.Equal(good.Count, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id WHERE m.name = 'counting-fake' AND m.state = 'active'"));
        // Only the missing file is still to do: a transient failure is retried (here with no delay) by a later run.
        Assert.Equal(1, await pipeline.CountWorkAsync());
        foreach (var (name, reason) in hostile)
        {
            var error = await database.ScalarAsync<string>($"SELECT embed_error FROM gallery.image_gallery WHERE path = '{Path.Combine(_directory, name)}'");
            Assert.Contains(reason, error);
        }

        // Undecodable files fail once and for all; the missing one was tried once by this run and waits for its next attempt.
        Assert.Equal(4L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embed_error_permanent AND embed_attempts = 1"));
        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE path LIKE '%missing.jpg' AND embed_attempts = 1 AND NOT embed_error_permanent AND embed_next_attempt_at IS NOT NULL"));
        Assert.All(embedder.EncodedPaths.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task TwoPipelinesAtOnce_2000Rows_EveryRowEncodedOnce()
    {
        await using var database = await TestDatabase.CreateAsync();
        var paths = GalleryRows.WriteFiles(_directory, 2000);
        await GalleryRows.InsertAsync(database, paths);
        var embedder = new CountingEmbedder();
        await using var first = database.CreateDataSource();
        await using var second = database.CreateDataSource();
        var options = new EmbeddingOptions { BatchSize = 32 };

        var results = await Task.WhenAll(
            new EmbeddingPipeline(first, embedder, options).RunAsync(new EmbeddingRequest()),
            new EmbeddingPipeline(second, embedder, options).RunAsync(new EmbeddingRequest()));

        Assert.Equal(2000, results.Sum(r => r.Embedded));
        Assert.All(results, r => Assert.True(r.Embedded > 0, "both pipelines should have done some of the work"));
        Assert.Equal(2000, embedder.EncodedRows);
        Assert.Equal(2000, embedder.EncodedPaths.Count);
        Assert.All(embedder.EncodedPaths.Values, count => Assert.Equal(1, count));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.embedding_pending"));
        Assert.Equal(2000L, await TestEmbeddings.CountAsync(database));
    }

    [Fact]
    public async Task Limit_ClaimsNoMoreThanThatManyRows()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 50));
        await using var dataSource = database.CreateDataSource();
        var pipeline = new EmbeddingPipeline(dataSource, new CountingEmbedder(), s_fast);

        var result = await pipeline.RunAsync(new EmbeddingRequest(Limit: 20));

        Assert.Equal(20, result.Embedded);
        Assert.Equal(30, await pipeline.CountWorkAsync());
    }

    [Fact]
    public async Task Stop_CommitsTheBatchInHand_HandsTheRestBack_LeavesNoLocks()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 200));
        var embedder = new CountingEmbedder(encodeDelay: TimeSpan.FromMilliseconds(300));
        await using var dataSource = database.CreateDataSource();
        var pipeline = new EmbeddingPipeline(dataSource, embedder, s_fast);
        using var stop = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Embedded >= 16)
            {
                stop.Cancel();
            }
        });

        var result = await pipeline.RunAsync(new EmbeddingRequest(), progress, stop.Token);

        Assert.True(result.Stopped);
        var embedded = await TestEmbeddings.CountAsync(database);
        Assert.Equal(result.Embedded, embedded);
        Assert.Equal(embedder.EncodedRows, result.Embedded);
        Assert.InRange(embedded, 16, 40);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE d.datname = '{database.Name}' AND l.locktype = 'tuple'"));

        var rest = await pipeline.RunAsync(new EmbeddingRequest());
        Assert.Equal(200 - embedded, rest.Embedded);
        Assert.All(embedder.EncodedPaths.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task WritingABatch_WhileAnotherBatchHoldsItsClaim_DoesNotWaitForThatClaim()
    {
        // An embedding written next to a claimed image makes the stored-neighbour trigger write a pair owned by the
        // claimed image; that pair's foreign-key check must not wait for the claim (which commits after this write).
        // The claim is the staged model's, the write the active model's, as during a backfill.
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 2));
        await using var dataSource = database.CreateDataSource();
        await new EmbeddingPipeline(dataSource, new CountingEmbedder("m"), s_fast).RunAsync(new EmbeddingRequest());
        var staged = await TestEmbeddings.StageAsync(database, "n", 512);
        var store = new EmbeddingStore(dataSource, s_fast);
        var runStarted = await store.NowAsync(CancellationToken.None);

        await using var claim = await store.ClaimAsync(new DbFirst.Models.RegisteredModel(staged, "n", 512, null, null, "staged"), 1, runStarted, CancellationToken.None);
        Assert.NotNull(claim);
        var claimed = claim.Rows[0].Id;
        var other = await database.ScalarAsync<long>($"SELECT id FROM gallery.image_gallery WHERE id <> {claimed}");
        await using var writer = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await writer.OpenAsync();
        await using var write = new Npgsql.NpgsqlCommand(
            $"""
            SET statement_timeout = '5s';
            UPDATE gallery.image_embeddings SET embedding = (SELECT embedding FROM {TestEmbeddings.Active} WHERE e.image_id = {claimed})
            WHERE image_id = {other} AND model_id = (SELECT id FROM gallery.clip_models WHERE name = 'm');
            """, writer);

        var written = await write.ExecuteNonQueryAsync();

        Assert.Equal(1, written);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.image_neighbours WHERE image_id = {claimed} AND neighbour_id = {other}"));
    }

    [Fact]
    public async Task RowsEmbeddedByAnotherModelOnly_ArePendingForThisModel_AndOnlyThoseAreEmbedded()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 30));
        await using var dataSource = database.CreateDataSource();
        await new EmbeddingPipeline(dataSource, new CountingEmbedder("old-model"), s_fast).RunAsync(new EmbeddingRequest());
        await TestEmbeddings.StageAsync(database, "new-model", 512);
        await TestEmbeddings.WriteAsync(database, "g.id % 3 = 0", "array_fill(0.5, ARRAY[512])::vector", model: "new-model");
        var embedder = new CountingEmbedder("new-model");
        var pipeline = new EmbeddingPipeline(dataSource, embedder, s_fast);

        Assert.Equal(20, await pipeline.CountWorkAsync());
        var result = await pipeline.RunAsync(new EmbeddingRequest());

        Assert.Equal(20, result.Embedded);
        Assert.Equal(20, embedder.EncodedRows);
        Assert.Equal("30,0,30,0", await database.ScalarAsync<string>(
            "SELECT string_agg(embedded || ',' || (SELECT count(*) FROM gallery.embedding_pending p WHERE p.model_id = c.model_id), ',' ORDER BY model_id) FROM gallery.model_coverage() c"));
    }

    [Fact]
    public async Task EmbedderOfAnotherModel_IsRefused_WithOneLine()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 3));
        await using var dataSource = database.CreateDataSource();
        await new EmbeddingPipeline(dataSource, new CountingEmbedder("a"), s_fast).RunAsync(new EmbeddingRequest());
        var registered = new DbFirst.Models.RegisteredModel(
            await database.ScalarAsync<int>("SELECT id FROM gallery.clip_models WHERE name = 'a'"), "a", 512, null, null, "active");

        var unregistered = await Assert.ThrowsAsync<GalleryException>(
            () => new EmbeddingPipeline(dataSource, new CountingEmbedder("b"), s_fast).RunAsync(new EmbeddingRequest()));
        var mismatched = Assert.Throws<GalleryException>(() => new EmbeddingPipeline(dataSource, registered, new CountingEmbedder("b"), s_fast));

        Assert.StartsWith("the gallery's active model is a (512-d), not b", unregistered.Message);
        Assert.StartsWith("the model loaded is b (512-d), but the registry's active model is a (512-d)", mismatched.Message);
        Assert.DoesNotContain('\n', unregistered.Message + mismatched.Message);
    }

    [Fact]
    public async Task EncoderFailure_FailsTheRun_AndHandsTheRowsBackUntouched()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 40));
        var embedder = new CountingEmbedder { FailNextEncode = new InvalidOperationException("onnx exploded") };
        await using var dataSource = database.CreateDataSource();
        var pipeline = new EmbeddingPipeline(dataSource, embedder, s_fast);

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.RunAsync(new EmbeddingRequest()));

        Assert.Equal("onnx exploded", failure.Message);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts > 0 OR embed_error IS NOT NULL"));
        var retry = await pipeline.RunAsync(new EmbeddingRequest());
        Assert.Equal(40, retry.Embedded);
        Assert.Equal(0, await pipeline.CountWorkAsync());
    }

    [Fact]
    public async Task ContentChange_DeletesEveryModelsEmbedding_ResetsRetryState_AndMakesItPendingAgain()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path, content_sha256, embed_attempts, embed_error, embed_error_permanent)
            VALUES ('/a.jpg', '\x01', 2, 'boom', true)
            """);
        await TestEmbeddings.WriteAsync(database, "true", "array_fill(0.1, ARRAY[512])::vector", model: "m");
        await TestEmbeddings.StageAsync(database, "n", 384);
        await TestEmbeddings.WriteAsync(database, "true", "array_fill(0.1, ARRAY[384])::vector", model: "n", dimension: 384);

        await database.ExecuteAsync("UPDATE gallery.image_gallery SET content_sha256 = '\\x02'");

        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_embeddings"));
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.embedding_pending"));
        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts = 0 AND embed_error IS NULL AND NOT embed_error_permanent"));
    }

    private sealed class SynchronousProgress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
