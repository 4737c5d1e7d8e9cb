namespace DbFirst.Tests.Support;

/// <summary>
/// A fact that acts on the test server's Debian cluster as its superuser or through <c>scripts/db.sh</c>; skipped with a
/// reason where it cannot (the same conditions as a restart, see <see cref="TestCluster"/>).
/// </summary>
internal sealed class LocalClusterFactAttribute : FactAttribute
{
    public LocalClusterFactAttribute()
    {
        if (TestCluster.CannotRestartReason is { } reason)
        {
            Skip = reason;
        }
    }
}
