using Npgsql;

namespace DbFirst.Database;

/// <summary>Drops a scratch or test database as its non-superuser owner.</summary>
public static class DatabaseDropper
{
    /// <summary>
    /// Drops <paramref name="name"/> (a plain identifier the caller generated) on the server of
    /// <paramref name="serverConnectionString"/>, ending its sessions. <c>WITH (FORCE)</c> refuses a non-superuser when an
    /// autovacuum worker is in the database (it has no role to be a member of); a plain DROP then lets PostgreSQL stop
    /// the worker itself, retried while the database is still in use.
    /// </summary>
    public static async Task DropAsync(string serverConnectionString, string name, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)", cancellationToken);
            return;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {name}", cancellationToken);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
