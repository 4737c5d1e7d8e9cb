using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// A migrated, uniquely named database on the same server as a given connection string, dropped on dispose:
/// benchmarks write their thousands of rows there instead of into someone's gallery.
/// </summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly string _serverConnectionString;

    private ScratchDatabase(string serverConnectionString, string name, string connectionString)
    {
        _serverConnectionString = serverConnectionString;
        Name = name;
        ConnectionString = connectionString;
    }

    /// <summary>The database's name, <c>dbfirst_scratch_…</c>.</summary>
    public string Name { get; }

    /// <summary>Connection string to the scratch database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates and migrates a scratch database next to the one <paramref name="connectionString"/> names.</summary>
    /// <exception cref="GalleryException">The role may not create databases.</exception>
    public static async Task<ScratchDatabase> CreateAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var name = $"dbfirst_scratch_{Guid.NewGuid():N}"[..32];
        await using (var server = new NpgsqlConnection(connectionString))
        {
            await server.OpenAsync(cancellationToken);
            try
            {
                // The name is generated above from hex digits only, so it needs no quoting.
                await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", server);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new GalleryException($"benchmarks need a scratch database, and this role may not create one: {exception.MessageText}", exception);
            }
        }

        var scratch = new ScratchDatabase(
            connectionString, name, new NpgsqlConnectionStringBuilder(connectionString) { Database = name }.ConnectionString);
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

    /// <summary>Drops the database, closing whatever still uses it.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await DatabaseDropper.DropAsync(_serverConnectionString, Name);
    }
}
