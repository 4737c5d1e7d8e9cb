using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// The pgvector release a database uses, and the one its server's library offers, against the first release with
/// the HNSW fixes DbFirst relies on. <c>dbfirst status</c> and <c>/health</c> show it.
/// </summary>
/// <param name="Installed">The <c>vector</c> extension's version in this database; null when it is not created.</param>
/// <param name="Available">The version the server's installed library offers (newer than <paramref name="Installed"/>
/// after the library was upgraded but before <c>ALTER EXTENSION vector UPDATE</c>); null when none is installed.</param>
internal sealed record PgvectorVersion(string? Installed, string? Available)
{
    /// <summary>
    /// 0.8.2 fixed a buffer overflow in parallel HNSW builds (pgvector issue 959), 0.8.3–0.8.4 HNSW index corruption
    /// after vacuum; 0.8.6 is the release the set-up script builds.
    /// </summary>
    public const string FixedRelease = "0.8.6";

    private const string Sql = """
        SELECT (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
               (SELECT default_version FROM pg_available_extensions WHERE name = 'vector')
        """;

    /// <summary>The release compared against, for JSON readers.</summary>
    public string Minimum => FixedRelease;

    /// <summary>Whether the database runs a release with the known HNSW bugs (false when the extension is absent).</summary>
    public bool BelowMinimum => Installed is not null && IsOlder(Installed, FixedRelease);

    /// <summary>One line saying what is wrong and what to run, or null when the installed release is fixed.</summary>
    public string? Warning => !BelowMinimum
        ? null
        : Available is not null && !IsOlder(Available, FixedRelease)
            ? $"pgvector {Installed} in this database is older than {FixedRelease}, which the server already has: run scripts/db.sh start (its superuser step runs ALTER EXTENSION vector UPDATE)"
            : $"pgvector {Installed} is older than {FixedRelease} and has known HNSW bugs (a buffer overflow in parallel builds, index corruption after vacuum): run scripts/setup.sh, then scripts/db.sh start";

    public static async Task<PgvectorVersion> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PgvectorVersion(
            reader.IsDBNull(0) ? null : reader.GetString(0),
            reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    /// <summary>Compares dotted releases numerically ("0.10.0" is newer than "0.8.6"); an unreadable one counts as older.</summary>
    internal static bool IsOlder(string version, string than) =>
        !Version.TryParse(version, out var left) || (Version.TryParse(than, out var right) && left < right);
}
