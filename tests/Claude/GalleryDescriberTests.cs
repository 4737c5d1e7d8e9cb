using DbFirst.Claude;
using DbFirst.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Claude;

/// <summary>A description belongs to the picture that was sent: one that changed meanwhile is dropped and done again.</summary>
public sealed class GalleryDescriberTests : IAsyncLifetime
{
    private const string Key = "sk-ant-describer-test-5d1a-SECRET";
    private ClaudeTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await ClaudeTestBed.StartAsync(Key);

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Describe_FileChangedAndReingestedDuringASlowCall_KeepsNoStaleDescription_AndIsDescribedOnTheNextRun()
    {
        var path = Path.Combine(_bed.Folder, "a.jpg");
        await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(200, 100));
        await using var dataSource = _bed.Database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        await ingester.IngestAsync(new IngestOptions([_bed.Folder]));
        var id = await _bed.Database.ScalarAsync<long>("SELECT id FROM gallery.image_gallery");
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _bed.Fake.Behavior = (n, _) =>
        {
            if (n == 1)
            {
                arrived.TrySetResult();
                return FakeReply.Slow(TimeSpan.FromSeconds(3), "the old picture");
            }

            return FakeReply.Ok("the new picture");
        };
        using var claude = new ClaudeClient(Options());
        var describer = new GalleryDescriber(dataSource, claude);

        var slow = describer.DescribeAsync(new DescribeRequest([], All: true));
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(300, 100));
        await ingester.IngestAsync(new IngestOptions([_bed.Folder]));
        var first = await slow;
        var afterFirst = await _bed.Database.ScalarAsync<string>($"SELECT coalesce(description, 'none') FROM gallery.image_gallery WHERE id = {id}");
        var second = await describer.DescribeAsync(new DescribeRequest([], All: true));

        var dropped = Assert.Single(first.Outcomes);
        Assert.Equal(DescribeOutcome.Dropped, dropped.Status);
        Assert.Equal(1, first.Dropped);
        Assert.Equal(GalleryDescriber.ChangedWhileDescribing, dropped.Error);
        Assert.Equal("none", afterFirst);
        Assert.Equal(1, second.Described);
        Assert.Equal("the new picture", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
        Assert.Equal(0, await _bed.Database.ScalarAsync<int>($"SELECT describe_attempts FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Describe_UnchangedFile_IsStored()
    {
        var id = await _bed.AddImageAsync("a.jpg");
        await using var dataSource = _bed.Database.CreateDataSource();
        using var claude = new ClaudeClient(Options());

        var summary = await new GalleryDescriber(dataSource, claude).DescribeAsync(new DescribeRequest([id]));

        Assert.Equal(1, summary.Described);
        Assert.StartsWith("A test description", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
    }

    private ClaudeOptions Options() => new() { ApiKey = Key, BaseUrl = _bed.Fake.BaseUrl, RequestsPerMinute = 6000 };
}
