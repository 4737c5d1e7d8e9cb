using DbFirst.Embedding;
using DbFirst.Models;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Models;

/// <summary>
/// The staged model's backfill progress that the dashboard and the operator page show, from real coverage readings
/// (<c>dbfirst status</c>'s reader on a real server) taken at known times: exact counts, the rate between readings, and
/// the time left. Embeddings are written with SQL so that each reading's counts are known.
/// </summary>
public sealed class BackfillProgressTrackerTests : IAsyncLifetime
{
    private const int Images = 40;
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private TestDatabase _database = null!;
    private Npgsql.NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await _database.ExecuteAsync($"""
            INSERT INTO gallery.image_gallery (path) SELECT '/photos/' || i || '.jpg' FROM generate_series(1, {Images}) AS i;
            SELECT gallery.ensure_active_model('model-a', 3);
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (gallery.active_model()).id, g.id, ARRAY[1, g.id, 0]::real[]::vector FROM gallery.image_gallery g;
            """);
        _dataSource = _database.CreateDataSource();
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Observe_NoModelStaged_IsNull()
    {
        Assert.Null(new BackfillProgressTracker().Observe((await ReadAsync()).Coverage, T0));
    }

    [Fact]
    public async Task Observe_BackfillUnderWay_ExactCountsThenRateAndTimeLeftThenComplete()
    {
        var tracker = new BackfillProgressTracker();
        await _database.ExecuteAsync("SELECT gallery.stage_model('model-b', 2, '/models/b', 'immich')");
        await EmbedStagedAsync(10);

        var first = tracker.Observe((await ReadAsync()).Coverage, T0)!;
        Assert.Equal(("model-b", 10L, (long)Images, (double?)null, (TimeSpan?)null), (first.Model, first.Embedded, first.Total, first.ImagesPerSecond, first.Eta));
        Assert.Equal("model-b: 10 / 40 (25.0%)", first.ToString());

        // 20 more in 40 s: 0.5 images/s over the readings, 10 left, so 20 s.
        await EmbedStagedAsync(20);
        var second = tracker.Observe((await ReadAsync()).Coverage, T0.AddSeconds(40))!;
        Assert.Equal((30L, 0.5, TimeSpan.FromSeconds(20)), (second.Embedded, second.ImagesPerSecond, second.Eta));
        Assert.Equal("model-b: 30 / 40 (75.0%), 0.5 images/s, about 1 min left", second.ToString());

        await EmbedStagedAsync(10);
        var done = tracker.Observe((await ReadAsync()).Coverage, T0.AddSeconds(60))!;
        Assert.True(done.Complete);
        Assert.Equal("model-b: 40 / 40 (100.0%), complete: ready to promote", done.ToString());
    }

    [Fact]
    public async Task Observe_ReadingsOlderThanTheWindow_RateFollowsTheRecentPaceOnly()
    {
        var tracker = new BackfillProgressTracker();
        await _database.ExecuteAsync("SELECT gallery.stage_model('model-b', 2, '/models/b', 'immich')");
        tracker.Observe((await ReadAsync()).Coverage, T0);
        await EmbedStagedAsync(30);
        tracker.Observe((await ReadAsync()).Coverage, T0.AddSeconds(10));

        // Nothing more for longer than the window: the fast start drops out, and with no growth there is no rate.
        var stalled = tracker.Observe((await ReadAsync()).Coverage, T0.AddSeconds(10) + BackfillProgressTracker.Window + TimeSpan.FromSeconds(1))!;
        Assert.Equal((30L, (double?)null, ""), (stalled.Embedded, stalled.ImagesPerSecond, stalled.Pace));
    }

    [Fact]
    public async Task Observe_AnotherModelStaged_StartsOver()
    {
        var tracker = new BackfillProgressTracker();
        await _database.ExecuteAsync("SELECT gallery.stage_model('model-b', 2, '/models/b', 'immich')");
        await EmbedStagedAsync(20);
        tracker.Observe((await ReadAsync()).Coverage, T0);
        await _database.ExecuteAsync("SELECT gallery.drop_model('model-b', true); SELECT gallery.stage_model('model-c', 2, '/models/c', 'immich')");
        await EmbedStagedAsync(5);

        var progress = tracker.Observe((await ReadAsync()).Coverage, T0.AddSeconds(30))!;

        Assert.Equal(("model-c", 5L, (double?)null), (progress.Model, progress.Embedded, progress.ImagesPerSecond));
    }

    private Task<GalleryStatus> ReadAsync() => new GalleryStatusReader(_dataSource).ReadAsync();

    // The next `count` pending images of the staged model, in id order.
    private Task EmbedStagedAsync(int count) => _database.ExecuteAsync($"""
        INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
        SELECT p.model_id, p.image_id, ARRAY[p.image_id, 1]::real[]::vector
        FROM gallery.embedding_pending p
        WHERE p.model_id = (SELECT id FROM gallery.clip_models WHERE state = 'staged')
        ORDER BY p.image_id
        LIMIT {count}
        """);
}
