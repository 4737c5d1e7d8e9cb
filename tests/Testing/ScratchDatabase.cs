using DbFirst.Database;
using Npgsql;

namespace DbFirst.Testing;

/// <summary>
/// A uniquely named database on the server of a given connection string, migrated unless asked not to, and dropped
/// on dispose: tests and benchmarks write their rows there instead of into someone's gallery. The one place that
/// creates and drops such databases.
/// </summary>
internal sealed class ScratchDatabase : IAsyncDisposable
{
    private ScratchDatabase(string serverConnectionString, string name)
    {
        ServerConnectionString = serverConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>The database's name: the prefix given to <see cref="CreateAsync"/>, an underscore and 16 hex digits.</summary>
    public string Name { get; }

    /// <summary>Connection string to the scratch database, as the login of <see cref="ServerConnectionString"/>.</summary>
    public string ConnectionString { get; }

    /// <summary>The connection string the database was created through, also used to drop it.</summary>
    public string ServerConnectionString { get; }

    /// <summary>Leave the database in place on dispose, for a closer look.</summary>
    public bool Keep { get; set; }

    /// <summary>
    /// A database an earlier run kept (<see cref="Keep"/>), named as <see cref="CreateAsync"/> names them; it is kept
    /// again on dispose.
    /// </summary>
    /// <param name="serverConnectionString">The login the earlier run used.</param>
    /// <param name="name">The kept database's name, e.g. <c>dbfirst_bench_3047d16258ff418a</c>.</param>
    /// <param name="prefix">The prefix the name must start with.</param>
    /// <exception cref="GalleryException">The name is not one <see cref="CreateAsync"/> could have made with <paramref name="prefix"/>.</exception>
    public static ScratchDatabase Attach(string serverConnectionString, string name, string prefix)
    {
        // Only names of our own making: the name is written into SQL unquoted, and no one's gallery is taken over.
        if (!System.Text.RegularExpressions.Regex.IsMatch(name, $"^{prefix}_[0-9a-f]{{16}}$"))
        {
            throw new GalleryException($"{name} is not a kept scratch database (expected {prefix}_ and 16 hex digits)");
        }

        return new ScratchDatabase(serverConnectionString, name) { Keep = true };
    }

    /// <summary>Creates (and unless <paramref name="migrate"/> is false, migrates) a database next to the one <paramref name="serverConnectionString"/> names.</summary>
    /// <param name="serverConnectionString">A login that may create databases (<c>CREATEDB</c>).</param>
    /// <param name="prefix">A plain lower-case identifier that says who made it, e.g. <c>dbfirst_test</c>.</param>
    /// <param name="migrate">Run the gallery's migrations in it.</param>
    /// <param name="cancellationToken">Stops the creation; a half-made database is dropped.</param>
    /// <exception cref="GalleryException">The role may not create databases.</exception>
    public static async Task<ScratchDatabase> CreateAsync(
        string serverConnectionString, string prefix = "dbfirst_scratch", bool migrate = true, CancellationToken cancellationToken = default)
    {
        // Generated from the caller's identifier and hex digits only, so the name needs no quoting.
        var name = $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 17)];
        await using (var server = new NpgsqlConnection(serverConnectionString))
        {
            await server.OpenAsync(cancellationToken);
            try
            {
                await ExecuteAsync(server, $"CREATE DATABASE {name}", cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new GalleryException($"a scratch database is needed, and this role may not create one: {exception.MessageText}", exception);
            }
        }

        var scratch = new ScratchDatabase(serverConnectionString, name);
        if (!migrate)
        {
            return scratch;
        }

        try
        {
            await new GalleryMigrator(scratch.ConnectionString).MigrateUpAsync(cancellationToken: cancellationToken);
            return scratch;
        }
        catch
        {
            await scratch.DisposeAsync();
            throw;
        }
    }

    /// <summary>Drops the database, closing whatever still uses it, unless <see cref="Keep"/> is set.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (!Keep)
        {
            await DropAsync(CancellationToken.None);
        }
    }

    // WITH (FORCE) refuses a non-superuser when an autovacuum worker is in the database (it has no role to be a member
    // of); a plain DROP then lets PostgreSQL stop the worker itself, retried while the database is still in use.
    private async Task DropAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", cancellationToken);
            return;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Name}", cancellationToken);
                return;
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 5)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt), cancellationToken);
            }
        }
    }

    // DROP DATABASE waits for a checkpoint, which outlasts Npgsql's 30 s default when a large build or load is
    // writing beside the tests; bounded all the same.
    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
