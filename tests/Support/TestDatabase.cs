using DbFirst.Database;
using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>
/// A uniquely named database on the local test server, created for one test or fixture and dropped afterwards.
/// The server comes from <c>DBFIRST_TEST_CONNECTION</c>, else the cluster of <c>scripts/db.sh</c> as its non-superuser owner
/// <c>dbfirst_owner</c> (CREATEDB), with the password from the pgpass file; new databases copy <c>template1</c>, where the
/// superuser step installed pgvector, plpython3u and <c>gallery_encoder</c>.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name, string connectionString)
    {
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("DBFIRST_TEST_CONNECTION")
        ?? LocalCluster.ConnectionString(LocalCluster.OwnerLogin);

    public static async Task<TestDatabase> CreateAsync(bool migrate = true, CancellationToken cancellationToken = default)
    {
        var name = $"dbfirst_test_{Guid.NewGuid():N}"[..28];
        await using (var admin = new NpgsqlConnection(ServerConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name };
        var database = new TestDatabase(name, builder.ConnectionString);
        if (migrate)
        {
            await new GalleryMigrator(database.ConnectionString).MigrateUpAsync(cancellationToken: cancellationToken);
        }

        return database;
    }

    public NpgsqlDataSource CreateDataSource() => GalleryDataSource.Create(ConnectionString);

    public async Task<T?> ScalarAsync<T>(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default : (T)value;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await DatabaseDropper.DropAsync(ServerConnectionString, Name);
    }
}
