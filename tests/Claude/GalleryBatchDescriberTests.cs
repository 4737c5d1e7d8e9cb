using DbFirst.Claude;
using DbFirst.Runner.Bench;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Claude;

public sealed class GalleryBatchDescriberTests : IAsyncLifetime
{
    private const string Key = "sk-ant-batch-test-9c2e-SECRET";
    private readonly string _folder = Directory.CreateTempSubdirectory("dbfirst-batch-").FullName;
    private TestDatabase _database = null!;
    private FakeMessagesApi _fake = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _fake = await FakeMessagesApi.StartAsync(Key);
    }

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        await _database.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task SubmitThenCollect_StoresDescriptionsModelAndTokens()
    {
        var first = await AddImageAsync("a.jpg");
        var second = await AddImageAsync("b.jpg");
        await using var dataSource = _database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        var submission = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var collection = await describer.CollectAsync();

        Assert.Equal(2, submission.Submitted);
        var batchId = Assert.Single(submission.BatchIds);
        Assert.Empty(_fake.Requests);
        Assert.Equal(["image-" + first, "image-" + second], _fake.BatchRequests.Select(r => r.CustomId).Order());
        Assert.All(_fake.BatchRequests, r =>
        {
            Assert.Equal(Key, r.Request.ApiKey);
            Assert.Equal("image/jpeg", Assert.Single(r.Request.Images).MediaType);
            Assert.Contains("Describe this photo", Assert.Single(r.Request.Texts));
        });
        Assert.Empty(_fake.Problems);
        Assert.Equal([batchId], collection.Collected);
        Assert.Equal((2, 0), (collection.Described, collection.Failed));
        Assert.True(collection.InputTokens > 0 && collection.OutputTokens > 0);
        Assert.Equal(2L, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE description LIKE 'A test description%' AND description_model = 'claude-sonnet-5-5' " +
            "AND described_at IS NOT NULL AND describe_input_tokens > 0 AND describe_output_tokens > 0 AND describe_error IS NULL"));
        Assert.Equal(collection.InputTokens, await _database.ScalarAsync<long>("SELECT sum(describe_input_tokens)::bigint FROM gallery.image_gallery"));
        Assert.Equal("collected", await _database.ScalarAsync<string>($"SELECT status FROM gallery.describe_batches WHERE batch_id = '{batchId}'"));
        Assert.True(await _database.ScalarAsync<bool>($"SELECT ended_at IS NOT NULL AND request_count = 2 FROM gallery.describe_batches WHERE batch_id = '{batchId}'"));
    }

    [Fact]
    public async Task Collect_ErroredExpiredOrEmptyItem_RecordsErrorAndKeepsTheOldDescription()
    {
        var ok = await AddImageAsync("ok.jpg");
        var errored = await AddImageAsync("errored.jpg");
        var expired = await AddImageAsync("expired.jpg");
        var empty = await AddImageAsync("empty.jpg");
        await _database.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'old words', description_model = 'claude-old' WHERE id IN ({errored}, {expired}, {empty})");
        _fake.Behavior = (n, _) => n switch
        {
            2 => FakeReply.Error(400),
            3 => FakeReply.Error(410),
            4 => FakeReply.Malformed("{}"),
            _ => FakeReply.Ok("fresh words"),
        };
        await using var dataSource = _database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        await describer.SubmitAsync(new DescribeRequest([ok, errored, expired, empty]));
        var collection = await describer.CollectAsync();
        var again = await describer.CollectAsync();

        Assert.Equal((1, 3), (collection.Described, collection.Failed));
        Assert.Empty(again.Collected);
        Assert.Equal("fresh words", await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {ok}"));
        foreach (var id in new[] { errored, expired, empty })
        {
            Assert.Equal("old words", await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
            Assert.Equal("claude-old", await _database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
            Assert.Equal(1, await _database.ScalarAsync<int>($"SELECT describe_attempts FROM gallery.image_gallery WHERE id = {id}"));
        }

        Assert.Contains("fake 400", await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {errored}"));
        Assert.Contains("expired", await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {expired}"));
        Assert.Contains("no text", await _database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {empty}"));
    }

    [Fact]
    public async Task Submit_ImagesPendingInABatch_AreNotSubmittedAgain()
    {
        await AddImageAsync("a.jpg");
        _fake.BatchesEnded = false;
        await using var dataSource = _database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        var first = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var newcomer = await AddImageAsync("b.jpg");
        var second = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var third = await describer.SubmitAsync(new DescribeRequest([], All: true));

        Assert.Equal(1, first.Submitted);
        Assert.Equal(1, second.Submitted);
        Assert.Equal("image-" + newcomer, _fake.BatchRequests[^1].CustomId);
        Assert.Equal((0, 0), (third.Submitted, third.BatchIds.Count));
        Assert.Equal(2, _fake.BatchCount);
    }

    [Fact]
    public async Task DescribeAll_SkipsImagesWaitingInABatch_ButNamedIdsStillGo()
    {
        var batched = await AddImageAsync("a.jpg");
        _fake.BatchesEnded = false;
        await using var dataSource = _database.CreateDataSource();
        using (var batch = new GalleryBatchDescriber(dataSource, Options()))
        {
            await batch.SubmitAsync(new DescribeRequest([], All: true));
        }

        using var claude = new ClaudeClient(Options());
        var describer = new GalleryDescriber(dataSource, claude);
        var all = await describer.DescribeAsync(new DescribeRequest([], All: true));
        var named = await describer.DescribeAsync(new DescribeRequest([batched]));

        Assert.Equal(0, all.Described);
        Assert.Equal(1, named.Described);
    }

    [Fact]
    public async Task Collect_BeforeTheBatchEnded_StoresNothingAndReportsItPending()
    {
        var id = await AddImageAsync("a.jpg");
        _fake.BatchesEnded = false;
        await using var dataSource = _database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());
        var batchId = Assert.Single((await describer.SubmitAsync(new DescribeRequest([id]))).BatchIds);

        var early = await describer.CollectAsync();
        _fake.BatchesEnded = true;
        var late = await describer.CollectAsync();

        Assert.Empty(early.Collected);
        Assert.Equal([(batchId, "in_progress")], early.Pending);
        Assert.Equal([batchId], late.Collected);
        Assert.NotNull(await _database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Collect_NothingPending_NeedsNoKeyAndMakesNoCall()
    {
        await using var dataSource = _database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, new ClaudeOptions { BaseUrl = _fake.BaseUrl });

        var collection = await describer.CollectAsync();

        Assert.Empty(collection.Collected);
        Assert.Empty(collection.Pending);
        Assert.Equal(0, _fake.BatchCount);
    }

    private ClaudeOptions Options() => new()
    {
        ApiKey = Key,
        BaseUrl = _fake.BaseUrl,
        MaxAttempts = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RequestsPerMinute = 6000,
    };

    private async Task<long> AddImageAsync(string name)
    {
        var path = Path.Combine(_folder, name);
        await File.WriteAllBytesAsync(path, TestImages.SplitRedBlue(200, 100));
        return await _database.ScalarAsync<long>($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}') RETURNING id");
    }
}
