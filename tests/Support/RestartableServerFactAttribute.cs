namespace DbFirst.Tests.Support;

/// <summary>A fact that restarts the test server's cluster; skipped with a reason where it cannot (see <see cref="TestCluster"/>).</summary>
internal sealed class RestartableServerFactAttribute : FactAttribute
{
    public RestartableServerFactAttribute()
    {
        if (TestCluster.CannotRestartReason is { } reason)
        {
            Skip = reason;
        }
    }
}
