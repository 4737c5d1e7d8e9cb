using DbFirst.Claude;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Claude;

public sealed class GalleryBatchDescriberTests : IAsyncLifetime
{
    private const string Key = "sk-ant-batch-test-9c2e-SECRET";
    private ClaudeTestBed _bed = null!;

    public async Task InitializeAsync()
    {
        _bed = await ClaudeTestBed.StartAsync(Key);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task SubmitThenCollect_StoresDescriptionsModelAndTokens()
    {
        var first = await _bed.AddImageAsync("a.jpg");
        var second = await _bed.AddImageAsync("b.jpg");
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        var submission = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var collection = await describer.CollectAsync();

        Assert.Equal(2, submission.Submitted);
        var batchId = Assert.Single(submission.BatchIds);
        Assert.Empty(_bed.Fake.Requests);
        Assert.Equal(["image-" + first, "image-" + second], _bed.Fake.BatchRequests.Select(r => r.CustomId).Order());
        Assert.All(_bed.Fake.BatchRequests, r =>
        {
            Assert.Equal(Key, r.Request.ApiKey);
            Assert.Equal("image/jpeg", Assert.Single(r.Request.Images).MediaType);
            Assert.Contains("Describe this photo", Assert.Single(r.Request.Texts));
        });
        Assert.Empty(_bed.Fake.Problems);
        Assert.Equal([batchId], collection.Collected);
        Assert.Equal((2, 0), (collection.Described, collection.Failed));
        Assert.True(collection.InputTokens > 0 && collection.OutputTokens > 0);
        Assert.Equal(2L, await _bed.Database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE description LIKE 'A test description%' AND description_model = 'claude-sonnet-5-5' " +
            "AND described_at IS NOT NULL AND describe_input_tokens > 0 AND describe_output_tokens > 0 AND describe_error IS NULL"));
        Assert.Equal(collection.InputTokens, await _bed.Database.ScalarAsync<long>("SELECT sum(describe_input_tokens)::bigint FROM gallery.image_gallery"));
        Assert.Equal("collected", await _bed.Database.ScalarAsync<string>($"SELECT status FROM gallery.describe_batches WHERE batch_id = '{batchId}'"));
        Assert.True(await _bed.Database.ScalarAsync<bool>($"SELECT ended_at IS NOT NULL AND request_count = 2 FROM gallery.describe_batches WHERE batch_id = '{batchId}'"));
    }

    [Fact]
    public async Task Collect_ErroredExpiredOrEmptyItem_RecordsErrorAndKeepsTheOldDescription()
    {
        var ok = await _bed.AddImageAsync("ok.jpg");
        var errored = await _bed.AddImageAsync("errored.jpg");
        var expired = await _bed.AddImageAsync("expired.jpg");
        var empty = await _bed.AddImageAsync("empty.jpg");
        await _bed.Database.ExecuteAsync($"UPDATE gallery.image_gallery SET description = 'old words', description_model = 'claude-old' WHERE id IN ({errored}, {expired}, {empty})");
        _bed.Fake.Behavior = (n, _) => n switch
        {
            2 => FakeReply.Error(400),
            3 => FakeReply.Error(410),
            4 => FakeReply.Malformed("{}"),
            _ => FakeReply.Ok("fresh words"),
        };
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        await describer.SubmitAsync(new DescribeRequest([ok, errored, expired, empty]));
        var collection = await describer.CollectAsync();
        var again = await describer.CollectAsync();

        Assert.Equal((1, 3), (collection.Described, collection.Failed));
        Assert.Empty(again.Collected);
        Assert.Equal("fresh words", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {ok}"));
        foreach (var id in new[] { errored, expired, empty })
        {
            Assert.Equal("old words", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
            Assert.Equal("claude-old", await _bed.Database.ScalarAsync<string>($"SELECT description_model FROM gallery.image_gallery WHERE id = {id}"));
            Assert.Equal(1, await _bed.Database.ScalarAsync<int>($"SELECT describe_attempts FROM gallery.image_gallery WHERE id = {id}"));
        }

        Assert.Contains("fake 400", await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {errored}"));
        Assert.Contains("expired", await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {expired}"));
        Assert.Contains("no text", await _bed.Database.ScalarAsync<string>($"SELECT describe_error FROM gallery.image_gallery WHERE id = {empty}"));
    }

    [Fact]
    public async Task Collect_AfterTheImageChanged_DropsItsResult_AndTheImageIsDescribedAgainNextTime()
    {
        var changed = await _bed.AddImageAsync("changed.jpg");
        var kept = await _bed.AddImageAsync("kept.jpg");
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());
        await describer.SubmitAsync(new DescribeRequest([], All: true));

        // What ingest does when the file's bytes change: a new hash, and the description state cleared.
        await _bed.ChangeImageAsync(changed, TestImages.SplitRedBlue(300, 100));
        var collection = await describer.CollectAsync();
        var afterCollect = await _bed.Database.ScalarAsync<string>($"SELECT coalesce(description, 'none') FROM gallery.image_gallery WHERE id = {changed}");
        var resubmitted = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var again = await describer.CollectAsync();

        Assert.Equal((1, 0, 1), (collection.Described, collection.Failed, collection.Dropped));
        Assert.Equal("none", afterCollect);
        Assert.StartsWith("A test description", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {kept}"));
        Assert.Equal(1, resubmitted.Submitted);
        Assert.Equal("image-" + changed, _bed.Fake.BatchRequests[^1].CustomId);
        Assert.Equal((1, 0), (again.Described, again.Dropped));
        Assert.StartsWith("A test description", await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {changed}"));
        Assert.True(await _bed.Database.ScalarAsync<bool>(
            $"SELECT bool_and(content_sha256 IS NOT NULL) FROM gallery.describe_batch_items WHERE image_id = {changed}"));
    }

    [Fact]
    public async Task Submit_ImagesPendingInABatch_AreNotSubmittedAgain()
    {
        await _bed.AddImageAsync("a.jpg");
        _bed.Fake.BatchesEnded = false;
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());

        var first = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var newcomer = await _bed.AddImageAsync("b.jpg");
        var second = await describer.SubmitAsync(new DescribeRequest([], All: true));
        var third = await describer.SubmitAsync(new DescribeRequest([], All: true));

        Assert.Equal(1, first.Submitted);
        Assert.Equal(1, second.Submitted);
        Assert.Equal("image-" + newcomer, _bed.Fake.BatchRequests[^1].CustomId);
        Assert.Equal((0, 0), (third.Submitted, third.BatchIds.Count));
        Assert.Equal(2, _bed.Fake.BatchCount);
    }

    [Fact]
    public async Task DescribeAll_SkipsImagesWaitingInABatch_ButNamedIdsStillGo()
    {
        var batched = await _bed.AddImageAsync("a.jpg");
        _bed.Fake.BatchesEnded = false;
        await using var dataSource = _bed.Database.CreateDataSource();
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
        var id = await _bed.AddImageAsync("a.jpg");
        _bed.Fake.BatchesEnded = false;
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, Options());
        var batchId = Assert.Single((await describer.SubmitAsync(new DescribeRequest([id]))).BatchIds);

        var early = await describer.CollectAsync();
        _bed.Fake.BatchesEnded = true;
        var late = await describer.CollectAsync();

        Assert.Empty(early.Collected);
        Assert.Equal([(batchId, "in_progress")], early.Pending);
        Assert.Equal([batchId], late.Collected);
        Assert.NotNull(await _bed.Database.ScalarAsync<string>($"SELECT description FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task Collect_NothingPending_NeedsNoKeyAndMakesNoCall()
    {
        await using var dataSource = _bed.Database.CreateDataSource();
        using var describer = new GalleryBatchDescriber(dataSource, new ClaudeOptions { BaseUrl = _bed.Fake.BaseUrl });

        var collection = await describer.CollectAsync();

        Assert.Empty(collection.Collected);
        Assert.Empty(collection.Pending);
        Assert.Equal(0, _bed.Fake.BatchCount);
    }

    private ClaudeOptions Options() => new()
    {
        ApiKey = Key,
        BaseUrl = _bed.Fake.BaseUrl,
        MaxAttempts = 2,
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RequestsPerMinute = 6000,
    };
}
