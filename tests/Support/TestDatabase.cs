using DbFirst.Database;
using DbFirst.Testing;
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
    private readonly ScratchDatabase _scratch;

    private TestDatabase(ScratchDatabase scratch) => _scratch = scratch;

    public string Name => _scratch.Name;

    public string ConnectionString => _scratch.ConnectionString;

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("DBFIRST_TEST_CONNECTION")
        ?? LocalCluster.ConnectionString(LocalCluster.OwnerLogin);

    public static async Task<TestDatabase> CreateAsync(bool migrate = true, CancellationToken cancellationToken = default) =>
        new(await ScratchDatabase.CreateAsync(ServerConnectionString, "dbfirst_test", migrate, cancellationToken));

    /// <summary>Runs <paramref name="sql"/> on the server as its login, outside any test database (CREATE or DROP DATABASE).</summary>
    public static async Task ServerExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The first value <paramref name="sql"/> returns on the server (e.g. from <c>pg_database</c>), default when none.</summary>
    public static async Task<T?> ServerScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync() is T value ? value : default;
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

    public ValueTask DisposeAsync() => _scratch.DisposeAsync();
}
