namespace DbFirst.Tests.Replication;

/// <summary>A fact that needs a streaming standby of the test cluster; skipped with the reason where one cannot be made.</summary>
internal sealed class StandbyFactAttribute : FactAttribute
{
    public StandbyFactAttribute()
    {
        if (StandbyCluster.CannotRunReason is { } reason)
        {
            Skip = reason;
        }
    }
}
