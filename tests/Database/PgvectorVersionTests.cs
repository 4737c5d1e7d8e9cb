using DbFirst.Database;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

public sealed class PgvectorVersionTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _fixture;

    public PgvectorVersionTests(PostgresFixture fixture) => _fixture = fixture;

    [Theory]
    [InlineData("0.8.0", false)]
    [InlineData("0.8.5", false)]
    [InlineData("0.8.6", true)]
    [InlineData("0.8.10", true)]
    [InlineData("0.9.0", true)]
    [InlineData("garbage", false)]
    public void IsFixed_FromTheFixedReleaseOn_AndOnlyThenWithoutWarning(string version, bool fixedRelease)
    {
        var pgvector = new PgvectorVersion(version, version);

        Assert.Equal(fixedRelease, !pgvector.BelowMinimum);
        Assert.Equal(fixedRelease, pgvector.Warning is null);
    }

    [Fact]
    public async Task ReadAsync_ReportsTheServersExtension_AsFixed()
    {
        await using var dataSource = _fixture.Database.CreateDataSource();
        await using var connection = await dataSource.OpenConnectionAsync();

        var pgvector = await PgvectorVersion.ReadAsync(connection);

        Assert.NotNull(pgvector.Installed);
        Assert.False(pgvector.BelowMinimum, pgvector.Warning);
    }
}
