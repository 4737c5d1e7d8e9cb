using DbFirst.Configuration;
using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// Where the local cluster of <c>scripts/db.sh</c> is and how its logins authenticate: no password is configured
/// anywhere, Npgsql reads it from the pgpass file that <c>db.sh start</c> writes (mode 0600).
/// </summary>
public static class LocalCluster
{
    /// <summary>Owns the database and schema <c>gallery</c>; runs migrations and index management.</summary>
    public const string OwnerLogin = "dbfirst_owner";

    /// <summary>What <c>serve</c>, <c>worker</c>, <c>ingest</c>, <c>embed</c>, <c>describe</c>, <c>ask</c> and the searches log in as.</summary>
    public const string RuntimeLogin = "dbfirst_app";

    /// <summary><c>DBFIRST_PGPASSFILE</c>, else <c>~/.config/dbfirst/pgpass</c> (<c>$XDG_CONFIG_HOME</c> when set).</summary>
    public static string PassFile =>
        Environment.GetEnvironmentVariable("DBFIRST_PGPASSFILE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(
                Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } config
                    ? config
                    : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
                "dbfirst",
                "pgpass");

    /// <summary>The local cluster's database <c>dbfirst</c> as <paramref name="login"/>, on port <c>DBFIRST_PGPORT</c> (default 55432).</summary>
    public static string ConnectionString(string login, string database = "dbfirst") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            // The same variable scripts/db.sh reads; a typo must not quietly reach another cluster on the default port.
            Port = new SettingsReader(Environment.GetEnvironmentVariable).Int("DBFIRST_PGPORT", 55432, max: 65535),
            Database = database,
            Username = login,
            Passfile = PassFile,
        }.ConnectionString;
}
