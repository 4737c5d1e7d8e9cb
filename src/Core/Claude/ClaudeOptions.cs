using DbFirst.Configuration;

namespace DbFirst.Claude;

/// <summary>
/// How DbFirst talks to Claude, read from configuration: <c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c> and the
/// <c>Claude:*</c> section (<c>Claude__Model</c> and so on as environment variables).
/// </summary>
/// <remarks><see cref="ToString"/> never prints the key, so an options object can be logged.</remarks>
internal sealed record ClaudeOptions
{
    /// <summary>
    /// The newest Sonnet in Anthropic's model documentation on 2026-11-26: platform.claude.com/docs "Models overview"
    /// lists Claude Sonnet 5.5 (API id <c>claude-sonnet-5-5</c>) as the current Sonnet, and the Sonnet 4.5 page says
    /// <c>claude-sonnet-4-5-20250929</c> retires on 2026-11-30 with Sonnet 5.5 as its replacement. The SDK (13.14.0)
    /// names the same id as <c>Model.ClaudeSonnet5_5</c>.
    /// </summary>
    public const string DefaultModel = "claude-sonnet-5-5";

    public const string ProductionBaseUrl = "https://api.anthropic.com";

    /// <summary>The Anthropic API key; <see langword="null"/> when none is configured.</summary>
    public string? ApiKey { get; init; }

    public string BaseUrl { get; init; } = ProductionBaseUrl;

    public string Model { get; init; } = DefaultModel;

    public int MaxTokens { get; init; } = 1024;

    /// <summary>Requests in flight at once.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Time one HTTP call may take, response included. Images make calls slow; 100 s (.NET's default) is too tight.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>Calls per image (or per question) before giving up: the first one and its retries.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>First retry delay; it doubles per attempt (with jitter) up to <see cref="MaxRetryDelay"/>, unless retry-after asks for longer.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Client-side request rate, so a large run stays under the account's limit instead of collecting 429s.</summary>
    public double RequestsPerMinute { get; init; } = 50;

    /// <summary>Reads <c>ANTHROPIC_API_KEY</c>, <c>ANTHROPIC_BASE_URL</c> and the <c>Claude:*</c> keys.</summary>
    /// <exception cref="GalleryException">A setting is not a valid number or URL.</exception>
    public static ClaudeOptions Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var defaults = new ClaudeOptions();
        return new ClaudeOptions
        {
            ApiKey = settings.Text("ANTHROPIC_API_KEY")?.Trim(),
            BaseUrl = BaseUrlFrom(settings),
            Model = settings.Text("Claude:Model") ?? DefaultModel,
            MaxTokens = settings.Int("Claude:MaxTokens", defaults.MaxTokens),
            Concurrency = settings.Int("Claude:Concurrency", defaults.Concurrency),
            Timeout = TimeSpan.FromSeconds(settings.Int("Claude:TimeoutSeconds", (int)defaults.Timeout.TotalSeconds)),
            MaxAttempts = settings.Int("Claude:MaxAttempts", defaults.MaxAttempts),
            RetryBaseDelay = TimeSpan.FromMilliseconds(settings.Int("Claude:RetryBaseDelayMs", (int)defaults.RetryBaseDelay.TotalMilliseconds)),
            MaxRetryDelay = TimeSpan.FromSeconds(settings.Int("Claude:MaxRetryDelaySeconds", (int)defaults.MaxRetryDelay.TotalSeconds)),
            RequestsPerMinute = settings.Int("Claude:RequestsPerMinute", (int)defaults.RequestsPerMinute),
        };
    }

    /// <summary>Throws the one-line error <c>describe</c> and <c>ask</c> stop with when no key is configured.</summary>
    public string RequireApiKey() =>
        ApiKey ?? throw new GalleryException("no Anthropic API key: set ANTHROPIC_API_KEY (describe and ask call Claude; nothing else needs it)");

    /// <summary>Removes the API key from <paramref name="text"/>: error bodies and exception messages can quote request headers.</summary>
    public string Redact(string text) =>
        ApiKey is { Length: > 0 } key ? text.Replace(key, "[redacted]", StringComparison.Ordinal) : text;

    public override string ToString() =>
        $"Claude {{ Model = {Model}, BaseUrl = {BaseUrl}, ApiKey = {(ApiKey is null ? "none" : "set")}, MaxTokens = {MaxTokens}, " +
        $"Concurrency = {Concurrency}, Timeout = {Timeout.TotalSeconds:F0}s, MaxAttempts = {MaxAttempts}, RequestsPerMinute = {RequestsPerMinute} }}";

    // The key is sent to this address, so it must at least be an absolute http(s) URL.
    private static string BaseUrlFrom(SettingsReader settings)
    {
        const string key = "ANTHROPIC_BASE_URL";
        if (settings.Text(key)?.Trim() is not { } text)
        {
            return ProductionBaseUrl;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttps || url.Scheme == Uri.UriSchemeHttp)
            ? text.TrimEnd('/')
            : throw SettingsReader.Invalid(key, "an absolute http(s) URL", text);
    }
}
