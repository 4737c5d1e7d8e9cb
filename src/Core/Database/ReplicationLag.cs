using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// The streaming standbys of the server <c>dbfirst status</c> talks to, or, on a standby, its own delay; read through
/// <c>gallery_monitor.replication()</c> (installed by the superuser step of <c>scripts/db.sh</c>).
/// </summary>
/// <param name="IsStandby">Whether this server is itself a hot standby.</param>
/// <param name="Standbys">On a primary, each connected standby; on a standby, one entry for itself (no name).</param>
/// <param name="Unknown">Why nothing could be read (a server whose superuser step did not install the function); null when read.</param>
internal sealed record ReplicationLag(bool IsStandby, IReadOnlyList<StandbyLag> Standbys, string? Unknown = null)
{
    private const string Sql = "SELECT pg_is_in_recovery(), standby, state, replay_lag_seconds, behind_bytes FROM gallery_monitor.replication()";

    public static async Task<ReplicationLag> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        var standbys = new List<StandbyLag>();
        var isStandby = false;
        try
        {
            await using var command = new NpgsqlCommand(Sql, connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                isStandby = reader.GetBoolean(0);
                standbys.Add(new StandbyLag(
                    reader.IsDBNull(1) ? null : reader.GetString(1),
                    reader.IsDBNull(2) ? "unknown" : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : (long)reader.GetDecimal(4)));
            }
        }
        catch (PostgresException error) when (error.SqlState is PostgresErrorCodes.InvalidSchemaName
            or PostgresErrorCodes.UndefinedFunction or PostgresErrorCodes.InsufficientPrivilege)
        {
            return new ReplicationLag(false, [], "gallery_monitor.replication() is not installed here: scripts/db.sh start installs it");
        }

        return new ReplicationLag(isStandby, standbys);
    }
}
