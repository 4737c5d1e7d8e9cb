namespace DbFirst.Tests.Support;

/// <summary>Tests that restart the test server's PostgreSQL cluster: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerRestartCollection
{
    public const string Name = "Server restart";
}
