using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SkiaSharp;

namespace DbFirst.Testing;

/// <summary>
/// A stand-in for Anthropic's <c>POST /v1/messages</c> on loopback (Kestrel, port chosen by the OS), for tests and
/// <c>dbfirst bench claude</c>. It records and checks every request (headers, model, image blocks decoded with
/// SkiaSharp against their declared type and the API's limits), answers as <see cref="Behavior"/> says, adds a fixed
/// latency, and enforces a requests-per-minute limit over a sliding minute with 429 and <c>retry-after</c> like the API.
/// </summary>
internal sealed partial class FakeMessagesApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly List<FakeRequest> _requests = [];
    private readonly List<string> _problems = [];
    private readonly Queue<DateTimeOffset> _window = new();
    private int _calls;

    private FakeMessagesApi(WebApplication app, string expectedApiKey)
    {
        _app = app;
        ExpectedApiKey = expectedApiKey;
    }

    public string BaseUrl { get; private set; } = "";

    public string ExpectedApiKey { get; }

    /// <summary>Latency added to every answer.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Requests accepted per sliding minute; more get 429. <see langword="null"/>: no limit.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Decides the answer to call number n (1-based) after the checks passed; the default describes politely.</summary>
    public Func<int, FakeRequest, FakeReply> Behavior { get; set; } = (n, _) => FakeReply.Ok($"A test description number {n}.");

    /// <summary>Requests received, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Whatever the checks found wrong with requests; empty when every request was valid.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }

    /// <summary>Answers that were 429 because of <see cref="RequestsPerMinute"/>.</summary>
    public int RateLimited { get; private set; }

    public static async Task<FakeMessagesApi> StartAsync(string expectedApiKey, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });
        var app = builder.Build();
        var fake = new FakeMessagesApi(app, expectedApiKey);
        app.MapPost("/v1/messages", fake.HandleAsync);
        app.MapPost("/v1/messages/batches", fake.CreateBatchAsync);
        app.MapGet("/v1/messages/batches/{id}", fake.RetrieveBatchAsync);
        app.MapGet("/v1/messages/batches/{id}/results", fake.BatchResultsAsync);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal);
        return fake;
    }

    /// <summary>The most requests that arrived within any 60-second span.</summary>
    public int MaxRequestsInAnyMinute()
    {
        var times = Requests.Select(r => r.At).OrderBy(t => t).ToList();
        var best = 0;
        for (int start = 0, end = 0; end < times.Count; end++)
        {
            while (times[end] - times[start] >= TimeSpan.FromMinutes(1))
            {
                start++;
            }

            best = Math.Max(best, end - start + 1);
        }

        return best;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = DateTimeOffset.UtcNow;
        var request = await ReadAsync(context, arrived);
        int number;
        TimeSpan? limitedFor;
        lock (_gate)
        {
            _requests.Add(request);
            number = ++_calls;
            limitedFor = AdmitLocked(arrived);
        }

        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, context.RequestAborted);
        }

        if (request.ApiKey != ExpectedApiKey)
        {
            await WriteErrorAsync(context, 401, "authentication_error", "invalid x-api-key", null);
            return;
        }

        if (limitedFor is { } wait)
        {
            RateLimited++;
            await WriteErrorAsync(context, 429, "rate_limit_error", "Number of requests has exceeded your per-minute rate limit", wait);
            return;
        }

        var reply = Behavior(number, request);
        if (reply.Delay is { } delay)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (reply.Drop)
        {
            context.Abort();
            return;
        }

        if (reply.RawBody is { } raw)
        {
            context.Response.StatusCode = (int)reply.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(raw);
            return;
        }

        if (reply.Status != HttpStatusCode.OK)
        {
            var type = (int)reply.Status switch
            {
                401 => "authentication_error",
                403 => "permission_error",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            await WriteErrorAsync(context, (int)reply.Status, type, $"fake {(int)reply.Status}", reply.RetryAfter);
            return;
        }

        var body = new JsonObject
        {
            ["id"] = $"msg_fake_{number}",
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = request.Model,
            ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = reply.Text ?? "" }),
            ["stop_reason"] = "end_turn",
            ["stop_sequence"] = null,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = 100 + 1000 * request.Images.Count + request.Texts.Sum(t => t.Length) / 4,
                ["output_tokens"] = Math.Max(1, (reply.Text ?? "").Length / 4),
            },
        };
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    // Sliding one-minute window, like a per-minute limit that refills continuously.
    private TimeSpan? AdmitLocked(DateTimeOffset now)
    {
        if (RequestsPerMinute is not { } limit)
        {
            return null;
        }

        while (_window.Count > 0 && now - _window.Peek() >= TimeSpan.FromMinutes(1))
        {
            _window.Dequeue();
        }

        if (_window.Count < limit)
        {
            _window.Enqueue(now);
            return null;
        }

        var wait = _window.Peek() + TimeSpan.FromMinutes(1) - now;
        return TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds)));
    }

    private async Task<FakeRequest> ReadAsync(HttpContext context, DateTimeOffset arrived)
    {
        JsonObject? root = null;
        try
        {
            root = (await JsonNode.ParseAsync(context.Request.Body))?.AsObject() ?? throw new JsonException("empty body");
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            Problem($"unreadable request body: {exception.Message}");
        }

        return ReadParams(context, root, arrived);
    }

    // One Messages request (the body of POST /v1/messages, or the params of one batch entry), checked like the API.
    private FakeRequest ReadParams(HttpContext context, JsonObject? root, DateTimeOffset arrived)
    {
        var headers = context.Request.Headers;
        string? Header(string name) => headers.TryGetValue(name, out var value) ? value.ToString() : null;
        var texts = new List<string>();
        var images = new List<FakeImage>();
        string? model = null;
        long maxTokens = 0;
        try
        {
            model = root?["model"]?.GetValue<string>();
            maxTokens = root?["max_tokens"]?.GetValue<long>() ?? 0;
            foreach (var message in root?["messages"]?.AsArray() ?? [])
            {
                var content = message?["content"];
                if (content is JsonValue value)
                {
                    texts.Add(value.GetValue<string>());
                    continue;
                }

                foreach (var block in content?.AsArray() ?? [])
                {
                    switch (block?["type"]?.GetValue<string>())
                    {
                        case "text":
                            texts.Add(block["text"]?.GetValue<string>() ?? "");
                            break;
                        case "image":
                            images.Add(CheckImage(block["source"]));
                            break;
                    }
                }
            }
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or FormatException)
        {
            Problem($"unreadable request body: {exception.Message}");
        }

        var request = new FakeRequest(arrived, Header("x-api-key"), Header("anthropic-version"), Header("authorization"),
            model, maxTokens, texts, images, Header("x-stainless-retry-count"));
        if (string.IsNullOrEmpty(request.AnthropicVersion))
        {
            Problem("no anthropic-version header");
        }

        if (string.IsNullOrEmpty(request.Model))
        {
            Problem("no model");
        }

        if (request.Authorization is not null)
        {
            Problem("an authorization header was sent besides x-api-key");
        }

        return request;
    }

    private FakeImage CheckImage(JsonNode? source)
    {
        var mediaType = source?["media_type"]?.GetValue<string>();
        var data = source?["data"]?.GetValue<string>() ?? "";
        if (source?["type"]?.GetValue<string>() != "base64")
        {
            Problem("image source is not base64");
        }

        if (data.Length >= 5L * 1024 * 1024)
        {
            Problem($"image base64 is {data.Length} characters, over the 5 MB limit");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(data);
        }
        catch (FormatException)
        {
            Problem("image data is not valid base64");
            return new FakeImage(mediaType, null, 0, 0, data.Length);
        }

        using var codec = SKCodec.Create(new SKMemoryStream(bytes));
        if (codec is null)
        {
            Problem($"image data ({mediaType}) does not decode");
            return new FakeImage(mediaType, null, 0, 0, data.Length);
        }

        var format = codec.EncodedFormat.ToString();
        var expected = codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Jpeg => "image/jpeg",
            SKEncodedImageFormat.Png => "image/png",
            SKEncodedImageFormat.Gif => "image/gif",
            SKEncodedImageFormat.Webp => "image/webp",
            _ => "unsupported",
        };
        if (mediaType != expected)
        {
            Problem($"media_type {mediaType} but the bytes are {format}");
        }

        using var bitmap = SKBitmap.Decode(codec);
        if (bitmap is null)
        {
            Problem($"image {format} fails to decode fully");
        }

        if (Math.Max(codec.Info.Width, codec.Info.Height) > 1568)
        {
            Problem($"image is {codec.Info.Width}x{codec.Info.Height}, long edge over 1568 px");
        }

        return new FakeImage(mediaType, format, codec.Info.Width, codec.Info.Height, data.Length);
    }

    private void Problem(string problem)
    {
        lock (_gate)
        {
            _problems.Add(problem);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string type, string message, TimeSpan? retryAfter)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            context.Response.Headers["retry-after"] = Math.Ceiling(wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        context.Response.ContentType = "application/json";
        var body = new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } };
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
