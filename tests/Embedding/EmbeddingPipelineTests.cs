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
        Assert.Equal(good.Count, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NOT NULL AND embedding_model = 'counting-fake'"));
        // Only the missing file is still to do: a transient failure is retried (here with no delay) by a later run.
        Assert.Equal(1, await pipeline.CountWorkAsync(reembed: false));
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
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NULL"));
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
        Assert.Equal(30, await pipeline.CountWorkAsync(reembed: false));
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
        var embedded = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NOT NULL");
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
        // Re-embedding one image next to a claimed one makes the stored-neighbour trigger write a pair owned by the
        // claimed image; that pair's foreign-key check must not wait for the claim (which commits after this write).
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 2));
        await using var dataSource = database.CreateDataSource();
        await new EmbeddingPipeline(dataSource, new CountingEmbedder("m"), s_fast).RunAsync(new EmbeddingRequest());
        var store = new EmbeddingStore(dataSource, s_fast);
        var runStarted = await store.NowAsync(CancellationToken.None);

        await using var claim = await store.ClaimAsync(stale: true, count: 1, afterId: 0, "another-model", runStarted, CancellationToken.None);
        Assert.NotNull(claim);
        var claimed = claim.Rows[0].Id;
        var other = await database.ScalarAsync<long>($"SELECT id FROM gallery.image_gallery WHERE id <> {claimed}");
        await using var writer = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await writer.OpenAsync();
        await using var write = new Npgsql.NpgsqlCommand(
            $"""
            SET statement_timeout = '5s';
            UPDATE gallery.image_gallery SET embedding = (SELECT embedding FROM gallery.image_gallery WHERE id = {claimed}) WHERE id = {other};
            """, writer);

        var written = await write.ExecuteNonQueryAsync();

        Assert.Equal(1, written);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.image_neighbours WHERE image_id = {claimed} AND neighbour_id = {other}"));
    }

    [Fact]
    public async Task Reembed_RedoesRowsOfAnotherModel_AndOnlyThose()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 30));
        await using var dataSource = database.CreateDataSource();
        await new EmbeddingPipeline(dataSource, new CountingEmbedder("old-model"), s_fast).RunAsync(new EmbeddingRequest());
        await database.ExecuteAsync("UPDATE gallery.image_gallery SET embedding_model = 'new-model' WHERE id % 3 = 0");
        var embedder = new CountingEmbedder("new-model");
        var pipeline = new EmbeddingPipeline(dataSource, embedder, s_fast);

        var plain = await pipeline.RunAsync(new EmbeddingRequest());
        var reembed = await pipeline.RunAsync(new EmbeddingRequest(Reembed: true));

        Assert.Equal(0, plain.Embedded);
        Assert.Equal(20, reembed.Embedded);
        Assert.Equal(20, embedder.EncodedRows);
        Assert.Equal(30L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embedding_model = 'new-model' AND embedding IS NOT NULL"));
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
        Assert.Equal(0, await pipeline.CountWorkAsync(reembed: false));
    }

    [Fact]
    public async Task ContentChange_ResetsEmbeddingAndRetryState()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            INSERT INTO gallery.image_gallery (path, content_sha256, embedding, embedding_model, embed_attempts, embed_error, embed_error_permanent)
            VALUES ('/a.jpg', '\x01', array_fill(0.1, ARRAY[512])::vector, 'm', 2, 'boom', true)
            """);

        await database.ExecuteAsync("UPDATE gallery.image_gallery SET content_sha256 = '\\x02'");

        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE embedding IS NULL AND embedding_model IS NULL AND embed_attempts = 0 AND embed_error IS NULL AND NOT embed_error_permanent"));
    }

    private sealed class SynchronousProgress(Action<EmbeddingProgress> report) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => report(value);
    }
}
