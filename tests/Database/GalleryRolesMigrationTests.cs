using DbFirst.Database;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>Migration 18's cluster-wide roles with per-database grants, in a cluster shared by many databases.</summary>
public sealed class GalleryRolesMigrationTests
{
    [Fact]
    public async Task RollingBackOneDatabase_KeepsTheRolesAnotherDatabaseStillUses_AndUpAgainWorks()
    {
        await using var first = await TestDatabase.CreateAsync();
        await using var second = await TestDatabase.CreateAsync();
        var migrator = new GalleryMigrator(first.ConnectionString);

        var rolledBack = await migrator.MigrateDownAsync(17);
        var rolesAfterDown = await first.ScalarAsync<long>("SELECT count(*) FROM pg_roles WHERE rolname IN ('gallery_analyst', 'gallery_operator')");
        var grantsLeft = await first.ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee IN ('gallery_analyst', 'gallery_operator')");
        var reapplied = await migrator.MigrateUpAsync();

        Assert.Contains(18L, rolledBack);
        Assert.Equal(2L, rolesAfterDown);
        Assert.Equal(0L, grantsLeft);
        Assert.Contains(18L, reapplied);
        Assert.True(await second.ScalarAsync<bool>("SELECT has_function_privilege('gallery_analyst', 'gallery.search(text, int, text, timestamptz, timestamptz)', 'EXECUTE')"));
        Assert.True(await first.ScalarAsync<bool>("SELECT has_table_privilege('gallery_analyst', 'gallery.image_gallery', 'SELECT')"));
        Assert.False(await first.ScalarAsync<bool>("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'gallery_analyst'"));
    }
}
