using DbFirst.Claude;
using DbFirst.Search;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Claude;

/// <summary>The ask cache serves an answer only for the very images (content and descriptions) it was built from.</summary>
public sealed class GalleryAskerTests : IAsyncLifetime
{
    private const string Key = "sk-ant-asker-test-0b7e-SECRET";
    private ClaudeTestBed _bed = null!;
    private long[] _ids = [];

    public async Task InitializeAsync()
    {
        _bed = await ClaudeTestBed.StartAsync(Key);
        _ids = [await _bed.AddImageAsync("a.jpg"), await _bed.AddImageAsync("b.jpg")];
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Ask_AfterAnImageChanged_IsNotServedFromTheCache()
    {
        await using var dataSource = _bed.Database.CreateDataSource();
        using var claude = new ClaudeClient(Options());
        var asker = new GalleryAsker(dataSource, new FixedRetriever(_ids, _bed.Folder), claude);

        var first = await asker.AskAsync("red?", 2);
        var repeated = await asker.AskAsync("red?", 2);
        await _bed.ChangeImageAsync(_ids[1], TestImages.SplitRedBlue(300, 100));
        var afterChange = await asker.AskAsync("red?", 2);
        await _bed.Database.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'now described' WHERE id = {_ids[0]}");
        var afterDescription = await asker.AskAsync("red?", 2);

        Assert.Equal((false, true, false, false), (first.Cached, repeated.Cached, afterChange.Cached, afterDescription.Cached));
        Assert.Equal(3, _bed.Fake.Requests.Count);
        Assert.Equal(3L, await _bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.ask_cache WHERE k = 2 AND cache_key IS NOT NULL"));
    }

    [Fact]
    public async Task Ask_WhenAnImageCouldNotBeRead_ShowsTheAnswer_ButDoesNotCacheIt()
    {
        File.Delete(Path.Combine(_bed.Folder, "b.jpg"));
        await using var dataSource = _bed.Database.CreateDataSource();
        using var claude = new ClaudeClient(Options());
        var asker = new GalleryAsker(dataSource, new FixedRetriever(_ids, _bed.Folder), claude);

        var first = await asker.AskAsync("red?", 2);
        await File.WriteAllBytesAsync(Path.Combine(_bed.Folder, "b.jpg"), TestImages.SplitRedBlue(200, 100));
        var second = await asker.AskAsync("red?", 2);

        Assert.StartsWith("A test description", first.Answer);
        Assert.Contains(first.Warnings, w => w.StartsWith($"image {_ids[1]} left out", StringComparison.Ordinal));
        Assert.False(second.Cached);
        Assert.Equal(2, _bed.Fake.Requests[1].Images.Count);
        Assert.Equal(1L, await _bed.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.ask_cache"));
    }

    private ClaudeOptions Options() => new() { ApiKey = Key, BaseUrl = _bed.Fake.BaseUrl, RequestsPerMinute = 6000 };

    private sealed class FixedRetriever(long[] ids, string folder) : IImageRetriever
    {
        public Task<IReadOnlyList<SearchHit>> RetrieveAsync(string question, int k, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SearchHit>>(
                ids.Take(k).Select((id, i) => new SearchHit(id, Path.Combine(folder, i == 0 ? "a.jpg" : "b.jpg"), 0.1 * (i + 1))).ToList());
    }
}
