using DbFirst.Database;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Database;

/// <summary><c>migrate down</c> refuses to destroy declared data without <c>--force</c>, and never loses role memberships.</summary>
// Role memberships are cluster-wide: a member added here would make another test's rollback refuse, so nothing runs beside these.
[Collection(ClusterRolesCollection.Name)]
public sealed class MigrateDownGuardTests
{
    [Fact]
    public async Task DownToOne_WithRows_RefusesInOneLineNamingTheCount_AndChangesNothing_ThenForceProceeds()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) VALUES ('/x/a.jpg'), ('/x/b.jpg'), ('/x/c.jpg')");
        var connection = database.ConnectionString;

        var preview = await CliRun.InvokeAsync("migrate", "preview", "--down", "--to", "1", "--connection", connection);
        var refused = await CliRun.InvokeAsync("migrate", "down", "--to", "1", "--connection", connection);
        var rowsAfterRefusal = await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery");
        var appliedAfterRefusal = (await new GalleryMigrator(connection).ListAsync()).Count(state => state.IsApplied);
        var forced = await CliRun.InvokeAsync("migrate", "down", "--to", "1", "--force", "--connection", connection);

        Assert.Equal(0, preview.ExitCode);
        Assert.Contains("--   3 rows of gallery.image_gallery", preview.Out);
        Assert.Contains("DROP TABLE IF EXISTS gallery.image_gallery", preview.Out);
        Assert.Equal(1, refused.ExitCode);
        Assert.Single(refused.Error.Trim().Split('\n'));
        Assert.StartsWith("dbfirst: migrate down --to 1 would destroy 3 rows of gallery.image_gallery", refused.Error);
        Assert.Contains("add --force", refused.Error);
        Assert.Equal(3L, rowsAfterRefusal);
        Assert.Equal((await new GalleryMigrator(connection).ListAsync()).Count, appliedAfterRefusal);
        Assert.Equal(0, forced.ExitCode);
        Assert.Null(await database.ScalarAsync<string>("SELECT to_regclass('gallery.image_gallery')::text"));
    }

    [Fact]
    public async Task DownTo31_WithAnUncollectedBatch_Refuses_AndACollectedOneDoesNot()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("INSERT INTO gallery.describe_batches (batch_id, model, request_count) VALUES ('msgbatch_1', 'm', 1)");
        var migrator = new GalleryMigrator(database.ConnectionString);

        var refused = await Assert.ThrowsAsync<GalleryException>(() => migrator.MigrateDownAsync(31));
        await database.ExecuteAsync("UPDATE gallery.describe_batches SET status = 'collected'");
        var rolledBack = await migrator.MigrateDownAsync(31);

        Assert.Contains("1 paid describe batches not yet collected (migration 32)", refused.Message);
        Assert.Contains(32L, rolledBack);
    }

    [Fact]
    public async Task DownPastTheRolesMigration_AsTheOwner_OnlyRevokes_SoMembershipsSurviveDownAndUp()
    {
        // The superuser step makes the runtime login a member of gallery_analyst; the owner may not drop roles.
        await using var database = await TestDatabase.CreateAsync();
        var migrator = new GalleryMigrator(database.ConnectionString);

        var losses = await migrator.DownLossesAsync(17);
        var rolledBack = await migrator.MigrateDownAsync(17, force: true);
        var memberAfterDown = await IsMemberAsync(database, "dbfirst_app");
        var grantsAfterDown = await database.ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee IN ('gallery_analyst', 'gallery_operator') AND table_schema = 'gallery'");
        await migrator.MigrateUpAsync();

        Assert.DoesNotContain(losses, loss => loss.Version == 18);
        Assert.Contains(18L, rolledBack);
        Assert.True(memberAfterDown);
        Assert.Equal(0L, grantsAfterDown);
        Assert.True(await IsMemberAsync(database, "dbfirst_app"));
        Assert.True(await database.ScalarAsync<bool>("SELECT has_table_privilege('gallery_analyst', 'gallery.image_gallery', 'SELECT')"));
    }

    [RoleAdminFact]
    public async Task DownPastTheRolesMigration_WithAMember_Refuses_AndWithForceTheMembershipSurvivesDownAndUp()
    {
        await using var database = await TestDatabase.CreateAsync();
        var member = $"dbfirst_member_{Guid.NewGuid():N}"[..28];
        await database.ExecuteAsync($"CREATE ROLE {member} NOLOGIN; GRANT gallery_analyst TO {member}");
        try
        {
            var migrator = new GalleryMigrator(database.ConnectionString);

            var refused = await Assert.ThrowsAsync<GalleryException>(() => migrator.MigrateDownAsync(17));
            var losses = await migrator.DownLossesAsync(17);
            var rolledBack = await migrator.MigrateDownAsync(17, force: true);
            var memberAfterDown = await IsMemberAsync(database, member);
            var grantsAfterDown = await database.ScalarAsync<long>(
                "SELECT count(*) FROM information_schema.role_table_grants WHERE grantee IN ('gallery_analyst', 'gallery_operator')");
            await migrator.MigrateUpAsync();

            Assert.Contains($"{member} in gallery_analyst", refused.Message);
            Assert.Contains(losses, loss => loss.Version == 18 && loss.Count == 1);
            Assert.Contains(18L, rolledBack);
            Assert.True(memberAfterDown);
            Assert.Equal(0L, grantsAfterDown);
            Assert.True(await IsMemberAsync(database, member));
            Assert.True(await database.ScalarAsync<bool>($"SELECT has_table_privilege('{member}', 'gallery.image_gallery', 'SELECT')"));
        }
        finally
        {
            await database.ExecuteAsync($"DROP ROLE IF EXISTS {member}");
        }
    }

    [RoleAdminFact]
    public async Task RestoreMemberships_RecreatesADroppedRole_AndGrantsItsMembersAgain()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var role = $"dbfirst_group_{Guid.NewGuid():N}"[..28];
        var member = $"dbfirst_member_{Guid.NewGuid():N}"[..28];
        await database.ExecuteAsync($"CREATE ROLE {role} NOLOGIN; CREATE ROLE {member} NOLOGIN; GRANT {role} TO {member} WITH ADMIN OPTION");
        try
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            var recorded = new List<DownStepGuard.Membership> { new(role, member, AdminOption: true) };

            // What the roles migration's Down() does when no other database uses the role.
            await database.ExecuteAsync($"DROP ROLE {role}");
            await DownStepGuard.RestoreMembershipsAsync(connection, recorded, CancellationToken.None);

            Assert.True(await database.ScalarAsync<bool>(
                $"SELECT a.admin_option FROM pg_auth_members a WHERE a.roleid = '{role}'::regrole AND a.member = '{member}'::regrole"));
            Assert.False(await database.ScalarAsync<bool>($"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{role}'"));
        }
        finally
        {
            await database.ExecuteAsync($"DROP ROLE IF EXISTS {member}; DROP ROLE IF EXISTS {role}");
        }
    }

    private static async Task<bool> IsMemberAsync(TestDatabase database, string member) =>
        await database.ScalarAsync<bool>($"SELECT pg_has_role('{member}', 'gallery_analyst', 'MEMBER')");
}
