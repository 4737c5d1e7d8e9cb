using System.Diagnostics;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Replication;

/// <summary>The test cluster's standby, made and dropped through <c>scripts/db.sh replica</c> (as a DBA would).</summary>
internal static class StandbyCluster
{
    private static readonly NpgsqlConnectionStringBuilder Primary = new(TestDatabase.ServerConnectionString);

    /// <summary><c>DBFIRST_REPLICA_PGPORT</c>, else the first port above the test cluster's that no other local cluster uses.</summary>
    public static int Port { get; } = FindPort();

    /// <summary>The cluster name db.sh gives the standby, which is also its application_name on the primary.</summary>
    public static string Name => $"{TestCluster.VersionAndName?.Split(' ')[1]}_replica";

    public static string? CannotRunReason =>
        TestCluster.CannotRestartReason is { } reason ? $"scripts/db.sh replica cannot run against the test cluster: {reason}"
        : Environment.GetEnvironmentVariable("DBFIRST_TEST_CONNECTION") is not null ? "DBFIRST_TEST_CONNECTION names a server scripts/db.sh does not manage"
        : null;

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString) { Port = Port, Database = database }.ConnectionString;

    public static Task StartAsync() => RunAsync("start");

    public static Task DropAsync() => RunAsync("drop");

    private static int FindPort()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("DBFIRST_REPLICA_PGPORT"), out var configured))
        {
            return configured;
        }

        var taken = new HashSet<int>();
        try
        {
            using var clusters = Process.Start(new ProcessStartInfo("pg_lsclusters", "--no-header") { RedirectStandardOutput = true })!;
            foreach (var line in clusters.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                // Ver Cluster Port …: the standby of this test cluster may exist from an earlier run and keeps its port.
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 3 && fields[1] != Name && int.TryParse(fields[2], out var port))
                {
                    taken.Add(port);
                }
            }

            clusters.WaitForExit(10_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No pg_lsclusters: CannotRunReason already says why the tests skip.
        }

        var candidate = Primary.Port + 1;
        while (taken.Contains(candidate))
        {
            candidate++;
        }

        return candidate;
    }

    private static async Task RunAsync(string verb)
    {
        var (exitCode, output) = await TestCluster.RunDbScriptAsync(
            new Dictionary<string, string> { ["DBFIRST_REPLICA_PGPORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }, "replica", verb);
        Assert.True(exitCode == 0, $"scripts/db.sh replica {verb} failed: {output}");
    }
}
