using System.Net;

namespace DbFirst.Testing;

/// <summary>What <see cref="FakeMessagesApi"/> answers to one call.</summary>
/// <param name="Status">HTTP status; 200 sends a message with <paramref name="Text"/>.</param>
/// <param name="Text">The reply text for a 200.</param>
/// <param name="RetryAfter">Sent as <c>retry-after</c> (whole seconds) when set.</param>
/// <param name="Delay">Extra time before answering (the fake's latency comes on top).</param>
/// <param name="Drop">Abort the connection instead of answering.</param>
/// <param name="RawBody">Send this body as it is, with <paramref name="Status"/> (a malformed response, an odd error).</param>
internal sealed record FakeReply(
    HttpStatusCode Status = HttpStatusCode.OK,
    string? Text = null,
    TimeSpan? RetryAfter = null,
    TimeSpan? Delay = null,
    bool Drop = false,
    string? RawBody = null)
{
    public static FakeReply Ok(string text) => new(Text: text);

    public static FakeReply Error(int status, TimeSpan? retryAfter = null) => new((HttpStatusCode)status, RetryAfter: retryAfter);

    public static FakeReply Dropped() => new(Drop: true);

    public static FakeReply Slow(TimeSpan delay, string text = "late") => new(Text: text, Delay: delay);

    public static FakeReply Malformed(string body) => new(RawBody: body);
}
