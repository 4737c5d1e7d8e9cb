namespace DbFirst.Tests.Support;

/// <summary>One migrated database shared by the tests of a class (<c>IClassFixture&lt;PostgresFixture&gt;</c>), dropped at the end.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private TestDatabase? _database;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("fixture not initialised");

    public string ConnectionString => Database.ConnectionString;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
