namespace DbFirst.Claude;

/// <summary>A call to Claude that failed for good (retries, if any, exhausted). Its message never contains the API key.</summary>
internal sealed class ClaudeException : Exception
{
    public ClaudeException(ClaudeFailure failure, string message, int attempts) : base(message)
    {
        Failure = failure;
        Attempts = attempts;
    }

    public ClaudeFailure Failure { get; }

    /// <summary>Calls made before giving up.</summary>
    public int Attempts { get; }

    /// <summary>Whether every further call would fail the same way, so a run over many images should stop.</summary>
    public bool StopsTheRun => Failure is ClaudeFailure.Authentication or ClaudeFailure.Configuration;

    public static bool IsRetryable(ClaudeFailure failure) =>
        failure is ClaudeFailure.Transient or ClaudeFailure.Timeout or ClaudeFailure.InvalidResponse;
}
