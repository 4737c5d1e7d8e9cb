using System.Diagnostics;
using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>The Debian cluster (<c>pg_lsclusters</c>) that serves <see cref="TestDatabase.ServerConnectionString"/>, found by its port.</summary>
internal static class TestCluster
{
    /// <summary>"15 dbfirst" for <c>pg_ctlcluster</c>; null when no local cluster listens on the test server's port.</summary>
    public static string? VersionAndName { get; } = Find();

    /// <summary>Why a restart test cannot run here; null when it can.</summary>
    public static string? CannotRestartReason =>
        Environment.GetEnvironmentVariable("DBFIRST_TEST_NO_RESTART") == "1" ? "DBFIRST_TEST_NO_RESTART=1: the test server must not be restarted"
        : VersionAndName is null ? "no local Debian cluster (pg_lsclusters) serves the test server's port"
        : Environment.UserName != "root" ? "pg_ctlcluster needs root"
        : null;

    /// <summary>Restarts the cluster (fast shutdown: every session is terminated) and waits until it accepts connections.</summary>
    public static async Task RestartAsync()
    {
        var parts = VersionAndName!.Split(' ');
        var (exitCode, output) = await RunAsync(Start("pg_ctlcluster", parts[0], parts[1], "restart"));
        Assert.True(exitCode == 0, $"pg_ctlcluster restart failed: {output}");

        // The test process's own pooled connections died with the server.
        NpgsqlConnection.ClearAllPools();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(TestDatabase.ServerConnectionString);
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    /// <summary>Runs SQL in the postgres database as the cluster's superuser (psql through <c>runuser</c>); root only.</summary>
    public static async Task SuperuserSqlAsync(string sql)
    {
        var (exitCode, output) = await RunAsync(Start("runuser", "-u", "postgres", "--", "psql", "-p", Port, "-d", "postgres", "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql));
        Assert.True(exitCode == 0, $"psql as postgres failed: {output}");
    }

    /// <summary>
    /// <c>scripts/db.sh</c> with these arguments for this cluster and port (and <paramref name="environment"/>, e.g.
    /// the replica's port): its exit code and what it printed. Bounded at 3 minutes.
    /// </summary>
    public static Task<(int ExitCode, string Output)> RunDbScriptAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = Start(Path.Combine(TestPaths.RepoRoot, "scripts", "db.sh"), args);
        start.Environment["DBFIRST_PGCLUSTER"] = VersionAndName!.Split(' ')[1];
        start.Environment["DBFIRST_PGPORT"] = Port;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return RunAsync(start);
    }

    // The test server's port, as pg_lsclusters and db.sh write it.
    private static string Port =>
        new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? Find()
    {
        try
        {
            var port = Port;
            var (exitCode, output) = RunAsync(Start("pg_lsclusters", "--no-header")).GetAwaiter().GetResult();
            if (exitCode != 0)
            {
                return null;
            }

            // Ver Cluster Port Status Owner Data-directory Log-file
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length >= 4 && fields[2] == port && fields[3] == "online")
                .Select(fields => $"{fields[0]} {fields[1]}")
                .FirstOrDefault();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static ProcessStartInfo Start(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(ProcessStartInfo start)
    {
        var program = start.FileName;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        // db.sh start visits every database of the owner and replica start copies the cluster; the rest answer in seconds.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
