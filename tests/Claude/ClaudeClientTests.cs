using System.Diagnostics;
using DbFirst.Claude;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Claude;

public sealed class ClaudeClientTests : IAsyncLifetime
{
    private const string Key = "sk-ant-test-7f3a9c-SECRET";
    private FakeMessagesApi _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeMessagesApi.StartAsync(Key);

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task Send_ImageAndText_ReachTheApiAsSent()
    {
        using var client = Client();
        var image = new ClaudeImagePreparer().Prepare(TestImages.WithExifOrientation(TestImages.SplitRedBlue(3000, 1000), 6), "photo.jpg");

        var reply = await client.SendAsync([ClaudeClient.ImageBlock(image), ClaudeClient.TextBlock("Which colour is on top?")]);

        Assert.Equal("A test description number 1.", reply.Text);
        Assert.True(reply.InputTokens > 0 && reply.OutputTokens > 0);
        var request = Assert.Single(_fake.Requests);
        Assert.Equal(Key, request.ApiKey);
        Assert.False(string.IsNullOrEmpty(request.AnthropicVersion));
        Assert.Null(request.Authorization);
        Assert.Equal(ClaudeOptions.DefaultModel, request.Model);
        Assert.Equal(1024, request.MaxTokens);
        Assert.Equal(["Which colour is on top?"], request.Texts);
        var sent = Assert.Single(request.Images);
        Assert.Equal(("image/jpeg", "Jpeg"), (sent.MediaType, sent.DetectedFormat));
        Assert.Equal(1568, Math.Max(sent.Width, sent.Height));
        Assert.True(sent.Height > sent.Width, "orientation 6 makes a landscape photo portrait");
        Assert.Empty(_fake.Problems);
    }

    [Theory]
    [InlineData(401, "Authentication")]
    [InlineData(403, "Authentication")]
    [InlineData(404, "Configuration")]
    [InlineData(400, "Rejected")]
    public async Task Send_PermanentStatus_FailsAtOnceWithoutRetry(int status, string failureName)
    {
        var failure = Enum.Parse<ClaudeFailure>(failureName);
        _fake.Behavior = (_, _) => FakeReply.Error(status);
        using var client = Client();

        var exception = await Assert.ThrowsAsync<ClaudeException>(() => client.SendAsync([ClaudeClient.TextBlock("hi")]));

        Assert.Equal(failure, exception.Failure);
        Assert.Equal(1, exception.Attempts);
        Assert.Single(_fake.Requests);
        Assert.Contains(status.ToString(), exception.Message);
        Assert.DoesNotContain(Key, exception.ToString());
    }

    [Fact]
    public async Task Send_WrongKey_SaysTheKeyWasRejected()
    {
        using var client = Client(o => o with { ApiKey = "sk-ant-wrong" });

        var exception = await Assert.ThrowsAsync<ClaudeException>(() => client.SendAsync([ClaudeClient.TextBlock("hi")]));

        Assert.Equal(ClaudeFailure.Authentication, exception.Failure);
        Assert.Contains("ANTHROPIC_API_KEY", exception.Message);
        Assert.DoesNotContain("sk-ant-wrong", exception.Message);
    }

    [Fact]
    public async Task Send_429WithRetryAfter_WaitsThatLongThenSucceeds()
    {
        _fake.Behavior = (n, _) => n == 1 ? FakeReply.Error(429, TimeSpan.FromSeconds(2)) : FakeReply.Ok("after the wait");
        using var client = Client();

        var reply = await client.SendAsync([ClaudeClient.TextBlock("hi")]);

        Assert.Equal("after the wait", reply.Text);
        Assert.Equal(2, reply.Attempts);
        var requests = _fake.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(1.9), $"retried after {(requests[1].At - requests[0].At).TotalSeconds:F2} s");
        Assert.All(requests, r => Assert.Equal("0", r.RetryCount));
    }

    [Theory]
    [InlineData(529)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Send_ServerTrouble_IsRetriedThenSucceeds(int status)
    {
        _fake.Behavior = (n, _) => n < 3 ? FakeReply.Error(status) : FakeReply.Ok("third time");
        using var client = Client();

        var reply = await client.SendAsync([ClaudeClient.TextBlock("hi")]);

        Assert.Equal(("third time", 3), (reply.Text, reply.Attempts));
    }

    [Fact]
    public async Task Send_ServerErrorEveryTime_StopsAtMaxAttempts()
    {
        _fake.Behavior = (_, _) => FakeReply.Error(500);
        using var client = Client();

        var exception = await Assert.ThrowsAsync<ClaudeException>(() => client.SendAsync([ClaudeClient.TextBlock("hi")]));

        Assert.Equal((ClaudeFailure.Transient, 3), (exception.Failure, exception.Attempts));
        Assert.Equal(3, _fake.Requests.Count);
        Assert.Contains("after 3 attempts", exception.Message);
    }

    [Fact]
    public async Task Send_DroppedConnection_IsRetried()
    {
        _fake.Behavior = (n, _) => n == 1 ? FakeReply.Dropped() : FakeReply.Ok("reconnected");
        using var client = Client();

        var reply = await client.SendAsync([ClaudeClient.TextBlock("hi")]);
        Assert.Equal(("reconnected", 2), (reply.Text, reply.Attempts));
    }

    [Fact]
    public async Task Send_SlowerThanTheTimeout_IsRetriedAsTimeout()
    {
        _fake.Behavior = (n, _) => n == 1 ? FakeReply.Slow(TimeSpan.FromSeconds(10)) : FakeReply.Ok("in time");
        using var client = Client(o => o with { Timeout = TimeSpan.FromSeconds(2) });
        var watch = Stopwatch.StartNew();

        var reply = await client.SendAsync([ClaudeClient.TextBlock("hi")]);

        Assert.Equal("in time", reply.Text);
        Assert.Equal(2, reply.Attempts);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(9), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Send_AlwaysSlow_FailsAsTimeout()
    {
        _fake.Behavior = (_, _) => FakeReply.Slow(TimeSpan.FromSeconds(10));
        using var client = Client(o => o with { Timeout = TimeSpan.FromSeconds(1), MaxAttempts = 2 });

        var exception = await Assert.ThrowsAsync<ClaudeException>(() => client.SendAsync([ClaudeClient.TextBlock("hi")]));

        Assert.Equal((ClaudeFailure.Timeout, 2), (exception.Failure, exception.Attempts));
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":5,\"output_tokens\":0}}")]
    [InlineData("{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[{\"type\":\"text\",\"text\":\"   \"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}")]
    [InlineData("{}")]
    public async Task Send_MalformedOrEmptyResponse_NeverBecomesAReply(string body)
    {
        _fake.Behavior = (_, _) => FakeReply.Malformed(body);
        using var client = Client(o => o with { MaxAttempts = 2 });

        var exception = await Assert.ThrowsAsync<ClaudeException>(() => client.SendAsync([ClaudeClient.TextBlock("hi")]));

        Assert.Equal(ClaudeFailure.InvalidResponse, exception.Failure);
        Assert.Equal(2, _fake.Requests.Count);
    }

    [Fact]
    public void Create_WithoutKey_ThrowsOneClearLine()
    {
        var exception = Assert.Throws<GalleryException>(() => new ClaudeClient(new ClaudeOptions { BaseUrl = _fake.BaseUrl }));

        Assert.Contains("ANTHROPIC_API_KEY", exception.Message);
        Assert.DoesNotContain('\n', exception.Message);
    }

    [Fact]
    public void Options_ToString_NeverShowsTheKey()
    {
        Assert.DoesNotContain(Key, new ClaudeOptions { ApiKey = Key }.ToString());
    }

    private ClaudeClient Client(Func<ClaudeOptions, ClaudeOptions>? change = null)
    {
        var options = new ClaudeOptions
        {
            ApiKey = Key,
            BaseUrl = _fake.BaseUrl,
            MaxAttempts = 3,
            RetryBaseDelay = TimeSpan.FromMilliseconds(50),
            Timeout = TimeSpan.FromSeconds(20),
            RequestsPerMinute = 6000,
        };
        return new ClaudeClient(change?.Invoke(options) ?? options);
    }
}
