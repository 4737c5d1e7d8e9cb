namespace DbFirst.Claude;

/// <summary>Why a call to Claude failed, which decides whether to retry it and whether to go on with other images.</summary>
internal enum ClaudeFailure
{
    /// <summary>401 or 403: the key is missing, wrong or lacks permission. Never retried; the run stops.</summary>
    Authentication,

    /// <summary>404 and the like: wrong model name or base URL. Never retried; the run stops.</summary>
    Configuration,

    /// <summary>400, 413, 422 or a refusal: this request will not succeed as it is. Not retried; other images go on.</summary>
    Rejected,

    /// <summary>429, 529, 5xx, a dropped connection: retried with backoff.</summary>
    Transient,

    /// <summary>No response within the timeout: retried with backoff.</summary>
    Timeout,

    /// <summary>A response that is not a usable message (malformed JSON, no text): retried, never stored.</summary>
    InvalidResponse,
}
