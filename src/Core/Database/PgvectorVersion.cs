using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// The pgvector version a database runs. Below <see cref="Fixed"/>, parallel HNSW builds can overflow a buffer (fixed
/// in 0.8.2) and HNSW vacuum can corrupt the index (fixed in 0.8.3–0.8.4); <c>dbfirst index rebuild</c> uses exactly that path.
/// </summary>
public sealed record PgvectorVersion(string Version)
{
    /// <summary>The release <c>scripts/setup.sh</c> installs, the first without those bugs that Debian packages.</summary>
    public static readonly Version Fixed = new(0, 8, 6);

    /// <summary>Whether <see cref="Version"/> is <see cref="Fixed"/> or later.</summary>
    public bool IsFixed => System.Version.TryParse(Version, out var parsed) && parsed >= Fixed;

    /// <summary>A warning for people, or null when the version is fixed.</summary>
    public string? Warning => IsFixed
        ? null
        : $"pgvector {Version} is below {Fixed}, which fixes HNSW build and vacuum bugs: run scripts/setup.sh, then scripts/db.sh start";

    /// <summary>Reads the installed extension's version; null when the extension is not installed.</summary>
    public static async Task<PgvectorVersion?> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
        return await command.ExecuteScalarAsync(cancellationToken) is string version ? new PgvectorVersion(version) : null;
    }
}
