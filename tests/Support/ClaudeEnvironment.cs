namespace DbFirst.Tests.Support;

/// <summary>
/// Sets the Claude environment variables the runner reads for the life of one test and restores them afterwards.
/// Tests using it share the <c>"Claude environment"</c> collection, so they never run at the same time.
/// </summary>
public sealed class ClaudeEnvironment : IDisposable
{
    private static readonly string[] s_names =
        ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "Claude__Model", "Claude__MaxAttempts", "Claude__RetryBaseDelayMs", "Claude__RequestsPerMinute", "Claude__TimeoutSeconds"];

    private readonly Dictionary<string, string?> _saved = s_names.ToDictionary(n => n, Environment.GetEnvironmentVariable);

    public ClaudeEnvironment(string? apiKey, string? baseUrl, string? model = null)
    {
        foreach (var name in s_names)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Environment.SetEnvironmentVariable("ANTHROPIC_API_KEY", apiKey);
        Environment.SetEnvironmentVariable("ANTHROPIC_BASE_URL", baseUrl);
        Environment.SetEnvironmentVariable("Claude__Model", model);
        Environment.SetEnvironmentVariable("Claude__MaxAttempts", "3");
        Environment.SetEnvironmentVariable("Claude__RetryBaseDelayMs", "50");
        Environment.SetEnvironmentVariable("Claude__RequestsPerMinute", "6000");
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}

[CollectionDefinition("Claude environment", DisableParallelization = true)]
public sealed class ClaudeEnvironmentCollection;
