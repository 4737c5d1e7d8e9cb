using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Database;

/// <summary><c>gallery.request_description</c> (migration 56): what operators may call, and what it refuses.</summary>
public sealed class RequestDescriptionFunctionTests
{
    [Fact]
    public async Task Operator_CanRequestADescription_ButAnalystCannot_AndNeitherCanUpdateTheTable()
    {
        await using var database = await TestDatabase.CreateAsync();
        var id = await database.ScalarAsync<long>("INSERT INTO gallery.image_gallery (path, describe_attempts) VALUES ('/x/a.jpg', 3) RETURNING id");

        var asOperator = await AsRoleAsync(database, "gallery_operator", $"SELECT gallery.request_description({id})");
        var unknown = await AsRoleAsync(database, "gallery_operator", "SELECT gallery.request_description(987654)");
        var analyst = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync(database, "gallery_analyst", $"SELECT gallery.request_description({id})"));
        var update = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync(database, "gallery_operator", $"UPDATE gallery.image_gallery SET description = 'x' WHERE id = {id}"));

        Assert.Equal(true, asOperator);
        Assert.Null(unknown);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, analyst.SqlState);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, update.SqlState);
        Assert.True(await database.ScalarAsync<bool>($"SELECT describe_requested_at IS NOT NULL AND describe_attempts = 0 FROM gallery.image_gallery WHERE id = {id}"));
    }

    [Fact]
    public async Task RequestDescription_NullId_IsRefusedWithAClearError_AndAnUnknownIdAnswersNull()
    {
        await using var database = await TestDatabase.CreateAsync();

        var nullId = await Assert.ThrowsAsync<PostgresException>(() => AsRoleAsync(database, "gallery_operator", "SELECT gallery.request_description(NULL)"));
        var negative = await AsRoleAsync(database, "gallery_operator", "SELECT gallery.request_description(-1)");

        Assert.Equal(PostgresErrorCodes.InvalidParameterValue, nullId.SqlState);
        Assert.Contains("must be a gallery image id, not NULL", nullId.MessageText);
        Assert.Null(negative);
    }

    [Fact]
    public async Task RequestDescription_IsSecurityDefiner_WithAPinnedSearchPath()
    {
        await using var database = await TestDatabase.CreateAsync();

        Assert.True(await database.ScalarAsync<bool>(
            "SELECT prosecdef AND proconfig = '{\"search_path=pg_catalog, pg_temp\"}' FROM pg_proc WHERE oid = 'gallery.request_description(bigint)'::regprocedure"));
        Assert.False(await database.ScalarAsync<bool>("SELECT has_function_privilege('public', 'gallery.request_description(bigint)', 'EXECUTE')"));
    }

    // SET ROLE to a NOLOGIN group role works for the (superuser) test login and changes the privileges checked.
    private static async Task<object?> AsRoleAsync(TestDatabase database, string role, string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var setRole = new NpgsqlCommand($"SET ROLE {role}", connection))
        {
            await setRole.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }
}
