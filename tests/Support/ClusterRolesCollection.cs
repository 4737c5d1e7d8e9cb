namespace DbFirst.Tests.Support;

/// <summary>Tests that change cluster-wide role memberships: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterRolesCollection
{
    public const string Name = "Cluster roles";
}
