using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;

namespace DbFirst.Claude;

/// <summary>
/// Paces calls to Claude for a whole process: a token bucket at the configured requests per minute (one token, so
/// no burst can overrun a per-minute limit), and a shared pause whenever the API answers with <c>retry-after</c>, so
/// one 429 slows every worker down instead of each of them collecting its own.
/// </summary>
internal sealed class ClaudeThrottle : IDisposable
{
    private readonly TokenBucketRateLimiter _limiter;
    private readonly TimeProvider _time;
    private long _pauseUntilTicks;
    private long _requests;
    private long _throttledResponses;

    public ClaudeThrottle(double requestsPerMinute, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerMinute);
        _time = time ?? TimeProvider.System;
        // 3 % slower than asked: timer ticks and network jitter can otherwise squeeze one extra request into a
        // sliding minute, and a server counting that way answers it with 429.
        Period = TimeSpan.FromMinutes(1) / requestsPerMinute * 1.03;
        _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = 1,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = Period,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    /// <summary>Time between two requests.</summary>
    public TimeSpan Period { get; }

    /// <summary>HTTP requests let through so far.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Responses that were 429 or 529 (rate limited or overloaded).</summary>
    public long ThrottledResponses => Interlocked.Read(ref _throttledResponses);

    /// <summary>Waits until this process may send its next request.</summary>
    public async Task WaitTurnAsync(CancellationToken cancellationToken = default)
    {
        await WaitPauseAsync(cancellationToken);
        using var lease = await _limiter.AcquireAsync(1, cancellationToken);
        if (!lease.IsAcquired)
        {
            throw new InvalidOperationException("the Claude rate limiter refused a request");
        }

        // A retry-after may have arrived while this caller queued for its token.
        await WaitPauseAsync(cancellationToken);
        Interlocked.Increment(ref _requests);
    }

    /// <summary>Pauses every caller for <paramref name="delay"/> from now, unless a longer pause is already set.</summary>
    public void Pause(TimeSpan delay)
    {
        var until = _time.GetUtcNow().UtcTicks + delay.Ticks;
        var current = Interlocked.Read(ref _pauseUntilTicks);
        while (until > current)
        {
            var seen = Interlocked.CompareExchange(ref _pauseUntilTicks, until, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>The handler that watches responses for <c>retry-after</c>; put it in the SDK's HTTP pipeline.</summary>
    public DelegatingHandler CreateHandler(HttpMessageHandler inner) => new RetryAfterObserver(this) { InnerHandler = inner };

    public void Dispose() => _limiter.Dispose();

    /// <summary>Reads <c>retry-after-ms</c> or <c>retry-after</c> (seconds or an HTTP date).</summary>
    public static TimeSpan? ReadRetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var milliseconds)
            && double.TryParse(milliseconds.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
        {
            return TimeSpan.FromMilliseconds(ms);
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
            _ => null,
        };
    }

    private async Task WaitPauseAsync(CancellationToken cancellationToken)
    {
        var wait = new DateTimeOffset(Interlocked.Read(ref _pauseUntilTicks), TimeSpan.Zero) - _time.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken);
        }
    }

    private sealed class RetryAfterObserver(ClaudeThrottle throttle) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode is HttpStatusCode.TooManyRequests or (HttpStatusCode)529)
            {
                Interlocked.Increment(ref throttle._throttledResponses);
            }

            if (!response.IsSuccessStatusCode && ReadRetryAfter(response, throttle._time.GetUtcNow()) is { } delay && delay > TimeSpan.Zero)
            {
                throttle.Pause(delay);
            }

            return response;
        }
    }
}
