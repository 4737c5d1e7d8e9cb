using System.Net;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Anthropic.Models.Messages.Batches;

namespace DbFirst.Claude;

/// <summary>
/// Sends one user message (text and images) to the Messages API through the official <c>Anthropic</c> SDK and owns
/// the retry policy: the SDK's own retries are off (<c>MaxRetries = 0</c>) so that exactly one layer retries, and the
/// Hangfire job that calls this has <c>Attempts = 0</c> too. A request is tried at most
/// <see cref="ClaudeOptions.MaxAttempts"/> times, with exponential backoff that never undercuts <c>retry-after</c>.
/// </summary>
internal sealed class ClaudeClient : IDisposable
{
    private readonly ClaudeOptions _options;
    private readonly ClaudeThrottle _throttle;
    private readonly bool _ownsThrottle;
    private readonly AnthropicClient _client;

    /// <exception cref="GalleryException">No API key is configured.</exception>
    public ClaudeClient(ClaudeOptions options, ClaudeThrottle? throttle = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        var apiKey = options.RequireApiKey();
        _ownsThrottle = throttle is null;
        _throttle = throttle ?? new ClaudeThrottle(options.RequestsPerMinute);
        var transport = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        var http = new HttpClient(_throttle.CreateHandler(transport))
        {
            // The SDK enforces options.Timeout per call; HttpClient's own limit (100 s by default) must not fire first.
            Timeout = options.Timeout + TimeSpan.FromSeconds(30),
        };
        _client = new AnthropicClient(new ClientOptions
        {
            // SDK 13.x sends ApiKey as "Authorization: Bearer"; the Messages API documents x-api-key, so the key goes
            // there. Setting both SDK credentials to null also stops the SDK from picking up ANTHROPIC_AUTH_TOKEN or a
            // profile from the environment, so exactly one credential, ours, is ever sent.
            ApiKey = null,
            AuthToken = null,
            ExtraHeaders = new Dictionary<string, string> { ["x-api-key"] = apiKey },
            BaseUrl = options.BaseUrl,
            HttpClient = http,
            MaxRetries = 0,
            Timeout = options.Timeout,
        });
    }

    public ClaudeOptions Options => _options;

    public ClaudeThrottle Throttle => _throttle;

    public static ContentBlockParam TextBlock(string text) => new TextBlockParam { Text = text };

    public static ContentBlockParam ImageBlock(PreparedImage image) => new ImageBlockParam
    {
        Source = new Base64ImageSource { Data = image.ToBase64(), MediaType = MediaType.ImageJpeg },
    };

    /// <summary>Sends <paramref name="content"/> as one user message, retrying what may succeed later.</summary>
    /// <exception cref="ClaudeException">The call failed for good; <see cref="ClaudeException.Failure"/> says why.</exception>
    public async Task<ClaudeReply> SendAsync(IReadOnlyList<ContentBlockParam> content, CancellationToken cancellationToken = default)
    {
        var parameters = new MessageCreateParams
        {
            Model = _options.Model,
            MaxTokens = _options.MaxTokens,
            Messages = [new UserMessageParam { Content = new MessageContentParam([.. content]) }],
        };

        return await CallAsync(async (attempt, token) => ReadReply(await _client.Messages.Create(parameters, token), attempt), cancellationToken);
    }

    /// <summary>The request one image's description needs, as a Message Batches entry.</summary>
    public Request BatchRequest(string customId, IReadOnlyList<ContentBlockParam> content) => new()
    {
        CustomID = customId,
        Params = new Params
        {
            Model = _options.Model,
            MaxTokens = _options.MaxTokens,
            Messages = [new UserMessageParam { Content = new MessageContentParam([.. content]) }],
        },
    };

    /// <summary>Submits <paramref name="requests"/> as one Message Batch (billed at half the price, answered within 24 h).</summary>
    /// <exception cref="ClaudeException">The batch could not be created.</exception>
    public Task<MessageBatch> CreateBatchAsync(IReadOnlyList<Request> requests, CancellationToken cancellationToken = default) =>
        CallAsync((_, token) => _client.Messages.Batches.Create(new BatchCreateParams { Requests = [.. requests] }, token), cancellationToken);

    /// <summary>The batch's current state (<c>processing_status</c>, counts).</summary>
    /// <exception cref="ClaudeException">The batch could not be read.</exception>
    public Task<MessageBatch> RetrieveBatchAsync(string batchId, CancellationToken cancellationToken = default) =>
        CallAsync((_, token) => _client.Messages.Batches.Retrieve(batchId, cancellationToken: token), cancellationToken);

    /// <summary>Every result of an ended batch, read in full before it is returned so a broken stream fails as one call.</summary>
    /// <exception cref="ClaudeException">The results could not be read.</exception>
    public Task<List<MessageBatchIndividualResponse>> BatchResultsAsync(string batchId, CancellationToken cancellationToken = default) =>
        CallAsync(async (_, token) =>
        {
            var results = new List<MessageBatchIndividualResponse>();
            await foreach (var result in _client.Messages.Batches.ResultsStreaming(batchId, cancellationToken: token).WithCancellation(token))
            {
                results.Add(result);
            }

            return results;
        }, cancellationToken);

    /// <summary>Reads a batch's succeeded message like a synchronous reply: only non-empty text ever comes back.</summary>
    /// <returns>The reply, or <see langword="null"/> with <paramref name="error"/> saying why there is none.</returns>
    public static ClaudeReply? TryReadReply(Message message, out string? error)
    {
        try
        {
            error = null;
            return ReadReply(message, 1);
        }
        catch (ClaudeReplyException exception)
        {
            error = exception.Message;
            return null;
        }
    }

    private async Task<T> CallAsync<T>(Func<int, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await _throttle.WaitTurnAsync(cancellationToken);
            (ClaudeFailure Failure, string Reason) failed;
            try
            {
                return await call(attempt, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception exception) when (Classify(exception) is { } classified)
            {
                failed = classified;
            }

            if (!ClaudeException.IsRetryable(failed.Failure) || attempt >= _options.MaxAttempts)
            {
                var tries = attempt == 1 ? "" : $" after {attempt} attempts";
                throw new ClaudeException(failed.Failure, _options.Redact($"{failed.Reason}{tries}"), attempt);
            }

            await Task.Delay(Backoff(attempt), cancellationToken);
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        if (_ownsThrottle)
        {
            _throttle.Dispose();
        }
    }

    // 1×, 2×, 4×… the base delay with ±25 % jitter, capped. retry-after is honoured separately by the throttle,
    // which holds every request (this retry included) until the time the API asked for.
    private TimeSpan Backoff(int attempt)
    {
        var exponential = _options.RetryBaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, _options.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.75 + Random.Shared.NextDouble() * 0.5));
    }

    private static ClaudeReply ReadReply(Message message, int attempt)
    {
        try
        {
            var texts = new List<string>();
            foreach (var block in message.Content ?? [])
            {
                if (block.TryPickText(out var text) && !string.IsNullOrWhiteSpace(text?.Text))
                {
                    texts.Add(text.Text.Trim());
                }
            }

            var stopReason = message.StopReason?.Raw();
            if (stopReason == "refusal")
            {
                throw new ClaudeReplyException(ClaudeFailure.Rejected, "Claude declined to answer (stop_reason refusal)");
            }

            if (texts.Count == 0)
            {
                throw new ClaudeReplyException(ClaudeFailure.InvalidResponse, $"Claude's response had no text (stop_reason {stopReason ?? "missing"})");
            }

            var usage = message.Usage;
            return new ClaudeReply(string.Join("\n\n", texts), message.Model.Raw(), usage?.InputTokens ?? 0, usage?.OutputTokens ?? 0, attempt);
        }
        catch (Exception exception) when (exception is JsonException or AnthropicInvalidDataException or InvalidOperationException or NullReferenceException)
        {
            throw new ClaudeReplyException(ClaudeFailure.InvalidResponse, $"Claude's response was malformed ({exception.GetType().Name})");
        }
    }

    private static (ClaudeFailure, string)? Classify(Exception exception) => exception switch
    {
        ClaudeReplyException reply => (reply.Failure, reply.Message),
        AnthropicApiException api => ClassifyStatus(api),
        AnthropicIOException or HttpRequestException or IOException =>
            (ClaudeFailure.Transient, $"cannot reach Claude: {Innermost(exception).Message}"),
        OperationCanceledException or TimeoutException =>
            (ClaudeFailure.Timeout, "Claude did not answer within the timeout (Claude__TimeoutSeconds)"),
        AnthropicInvalidDataException or JsonException =>
            (ClaudeFailure.InvalidResponse, $"Claude's response was malformed ({exception.GetType().Name})"),
        _ => null,
    };

    private static (ClaudeFailure, string) ClassifyStatus(AnthropicApiException api)
    {
        var status = (int)api.StatusCode;
        var detail = SafeApiMessage(api);
        var what = $"Claude answered {status} {api.StatusCode}{detail}";
        return status switch
        {
            401 => (ClaudeFailure.Authentication, $"{what}: the API key was rejected (check ANTHROPIC_API_KEY)"),
            403 => (ClaudeFailure.Authentication, $"{what}: the API key may not use this model or endpoint"),
            402 => (ClaudeFailure.Authentication, $"{what}: billing (check the account's credit)"),
            404 => (ClaudeFailure.Configuration, $"{what}: check Claude__Model and ANTHROPIC_BASE_URL"),
            408 or 409 or 429 or >= 500 => (ClaudeFailure.Transient, what),
            _ => (ClaudeFailure.Rejected, what),
        };
    }

    // The API's own error message ("model: not found" …), short, never the raw body.
    private static string SafeApiMessage(AnthropicApiException api)
    {
        try
        {
            var message = api.ApiMessage;
            return string.IsNullOrWhiteSpace(message) ? "" : $" ({(message.Length > 200 ? message[..200] + "…" : message)})";
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException or AnthropicInvalidDataException or KeyNotFoundException)
        {
            return "";
        }
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }

    private sealed class ClaudeReplyException(ClaudeFailure failure, string message) : Exception(message)
    {
        public ClaudeFailure Failure { get; } = failure;
    }
}
