namespace DbFirst.Testing;

/// <summary>One call <see cref="FakeMessagesApi"/> received, as it understood it.</summary>
/// <param name="At">When it arrived.</param>
/// <param name="ApiKey">The <c>x-api-key</c> header.</param>
/// <param name="AnthropicVersion">The <c>anthropic-version</c> header.</param>
/// <param name="Authorization">The <c>authorization</c> header, which DbFirst must not send.</param>
/// <param name="Model">The requested model.</param>
/// <param name="MaxTokens">The requested <c>max_tokens</c>.</param>
/// <param name="Texts">Text blocks of the user message, in order.</param>
/// <param name="Images">Image blocks of the user message, in order.</param>
/// <param name="RetryCount">The SDK's <c>x-stainless-retry-count</c> header (0 when the SDK does not retry).</param>
internal sealed record FakeRequest(
    DateTimeOffset At,
    string? ApiKey,
    string? AnthropicVersion,
    string? Authorization,
    string? Model,
    long MaxTokens,
    IReadOnlyList<string> Texts,
    IReadOnlyList<FakeImage> Images,
    string? RetryCount);
