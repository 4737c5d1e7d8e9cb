using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>
/// A fact that creates and drops roles, so the test login needs CREATEROLE (or superuser); skipped with a reason where
/// it has neither, as on the local cluster, whose owner login is deliberately NOCREATEROLE.
/// </summary>
internal sealed class RoleAdminFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_skipReason = new(ReadSkipReason);

    public RoleAdminFactAttribute()
    {
        if (s_skipReason.Value is { } reason)
        {
            Skip = reason;
        }
    }

    private static string? ReadSkipReason()
    {
        try
        {
            using var connection = new NpgsqlConnection(TestDatabase.ServerConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user", connection);
            return command.ExecuteScalar() is true
                ? null
                : "the test login may not create roles (the local cluster's owner is NOCREATEROLE, so its down steps never drop roles); point DBFIRST_TEST_CONNECTION at a role administrator to run this";
        }
        catch (NpgsqlException exception)
        {
            return $"cannot reach the test server: {exception.Message}";
        }
    }
}
