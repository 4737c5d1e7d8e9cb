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
        var (exitCode, output) = await RunAsync("pg_ctlcluster", parts[0], parts[1], "restart");
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

    private static string? Find()
    {
        try
        {
            var port = new NpgsqlConnectionStringBuilder(TestDatabase.ServerConnectionString).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var (exitCode, output) = RunAsync("pg_lsclusters", "--no-header").GetAwaiter().GetResult();
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

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
