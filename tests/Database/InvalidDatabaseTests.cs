using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>
/// <c>scripts/db.sh start</c> on a cluster where an interrupted <c>DROP DATABASE</c> left databases invalid (no one may
/// connect to them): it used to stop there, which stopped CI before a single test. Runs alone, since <c>start</c>
/// updates <c>template1</c>, which a parallel test's <c>CREATE DATABASE</c> copies.
/// </summary>
[Collection(ServerRestartCollection.Name)]
public sealed class InvalidDatabaseTests
{
    [LocalClusterFact]
    public async Task Start_DropsAnInvalidScratchDatabase_AndLeavesAnyOtherInvalidDatabaseWithAWarning()
    {
        var suffix = Guid.NewGuid().ToString("N")[..16];
        var scratch = $"dbfirst_test_{suffix}";
        var other = $"dbfirst_archive_{suffix}";
        await TestDatabase.ServerExecuteAsync($"CREATE DATABASE {scratch}");
        await TestDatabase.ServerExecuteAsync($"CREATE DATABASE {other}");
        try
        {
            // What PostgreSQL 15.4+ leaves behind when DROP DATABASE is interrupted after it began removing files.
            await TestCluster.SuperuserSqlAsync($"UPDATE pg_database SET datconnlimit = -2 WHERE datname IN ('{scratch}', '{other}')");

            var (exitCode, output) = await TestCluster.RunDbScriptAsync(null, "start");

            Assert.True(exitCode == 0, $"db.sh start failed: {output}");
            Assert.Contains($"dropped {scratch}", output, StringComparison.Ordinal);
            Assert.Contains($"warning: database {other} is invalid", output, StringComparison.Ordinal);
            Assert.Equal(0L, await TestDatabase.ServerScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{scratch}'"));
            Assert.Equal(1L, await TestDatabase.ServerScalarAsync<long>($"SELECT count(*) FROM pg_database WHERE datname = '{other}'"));
        }
        finally
        {
            // An invalid database still allows DROP, and its owner may run it.
            await TestDatabase.ServerExecuteAsync($"DROP DATABASE IF EXISTS {scratch}");
            await TestDatabase.ServerExecuteAsync($"DROP DATABASE IF EXISTS {other}");
        }
    }
}
