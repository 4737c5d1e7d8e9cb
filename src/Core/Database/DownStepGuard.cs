using System.Reflection;
using DbFirst.Migrations;
using Npgsql;

namespace DbFirst.Database;

/// <summary>
/// The one place that reads what rolling back would destroy: the <see cref="DownLosesAttribute"/> and
/// <see cref="DownDropsRolesAttribute"/> each migration declares, counted against the database as it is now. It also
/// keeps roles with members through a rollback: memberships are recorded before the down steps run and any role that
/// had members is recreated and granted to them again afterwards.
/// </summary>
internal static class DownStepGuard
{
    private const string MembershipsSql = """
        SELECT role.rolname, member.rolname, membership.admin_option
        FROM pg_auth_members AS membership
        JOIN pg_roles AS role ON role.oid = membership.roleid
        JOIN pg_roles AS member ON member.oid = membership.member
        WHERE role.rolname = ANY(@roles)
        ORDER BY 1, 2
        """;

    /// <summary>What rolling back the <paramref name="versions"/> (applied migrations) would destroy, newest step first; only non-zero counts.</summary>
    public static async Task<IReadOnlyList<DownStepLoss>> FindLossesAsync(
        NpgsqlConnection connection, IEnumerable<long> versions, IReadOnlyDictionary<long, Type> migrations, CancellationToken cancellationToken)
    {
        var losses = new List<DownStepLoss>();
        // A login that may not drop roles (the local cluster's owner) only revokes on the way down: no role is lost.
        var canDropRoles = await CanDropRolesAsync(connection, cancellationToken);
        foreach (var version in versions.OrderDescending())
        {
            if (!migrations.TryGetValue(version, out var type))
            {
                continue;
            }

            foreach (var declared in type.GetCustomAttributes<DownLosesAttribute>())
            {
                var count = await CountAsync(connection, declared.CountSql, cancellationToken);
                if (count > 0)
                {
                    losses.Add(new DownStepLoss(version, declared.What, count));
                }
            }

            if (canDropRoles && type.GetCustomAttribute<DownDropsRolesAttribute>() is { } drops)
            {
                var members = (await MembershipsAsync(connection, drops.Roles, cancellationToken))
                    .Where(m => !drops.Roles.Contains(m.Member, StringComparer.Ordinal))
                    .ToList();
                if (members.Count > 0)
                {
                    var names = string.Join(", ", members.Select(m => $"{m.Member} in {m.Role}").Take(5)) + (members.Count > 5 ? ", …" : "");
                    losses.Add(new DownStepLoss(version,
                        $"memberships of {string.Join("/", drops.Roles)} ({names}), whose grants in this database go; with --force the roles and memberships are kept",
                        members.Count));
                }
            }
        }

        return losses;
    }

    /// <summary>
    /// The memberships in the roles that the <paramref name="versions"/>' down steps may drop, less those among the
    /// roles themselves (operator in analyst), which the roles migration's <c>Up()</c> recreates.
    /// </summary>
    public static async Task<IReadOnlyList<Membership>> RecordMembershipsAsync(
        NpgsqlConnection connection, IEnumerable<long> versions, IReadOnlyDictionary<long, Type> migrations, CancellationToken cancellationToken)
    {
        var roles = versions
            .Select(version => migrations.GetValueOrDefault(version)?.GetCustomAttribute<DownDropsRolesAttribute>())
            .OfType<DownDropsRolesAttribute>()
            .SelectMany(drops => drops.Roles)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        // A login that may not drop roles only revokes on the way down: there is nothing to restore.
        return roles.Count == 0 || !await CanDropRolesAsync(connection, cancellationToken)
            ? []
            : (await MembershipsAsync(connection, roles, cancellationToken)).Where(m => !roles.Contains(m.Member, StringComparer.Ordinal)).ToList();
    }

    /// <summary>Recreates (NOLOGIN, as the roles migration makes them) each role that had members and is gone, and grants every recorded membership again.</summary>
    public static async Task RestoreMembershipsAsync(NpgsqlConnection connection, IReadOnlyList<Membership> memberships, CancellationToken cancellationToken)
    {
        foreach (var role in memberships.Select(m => m.Role).Distinct(StringComparer.Ordinal))
        {
            await ExecuteAsync(connection, $"""
                DO $$
                BEGIN
                  CREATE ROLE {PgIdentifier.Quote(role)} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                  NULL;  -- the down step kept it (another database still uses it)
                END $$
                """, cancellationToken);
        }

        foreach (var membership in memberships)
        {
            // A member role dropped meanwhile by someone else has nothing left to restore.
            await ExecuteAsync(connection, $"""
                DO $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {Literal(membership.Member)})
                     AND NOT pg_has_role({Literal(membership.Member)}, {Literal(membership.Role)}, 'MEMBER') THEN
                    GRANT {PgIdentifier.Quote(membership.Role)} TO {PgIdentifier.Quote(membership.Member)}{(membership.AdminOption ? " WITH ADMIN OPTION" : "")};
                  END IF;
                END $$
                """, cancellationToken);
        }
    }

    private static async Task<bool> CanDropRolesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedColumn)
        {
            // Already gone (dropped by hand): the step has nothing left to lose.
            return 0;
        }
    }

    private static async Task<List<Membership>> MembershipsAsync(NpgsqlConnection connection, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(MembershipsSql, connection);
        command.Parameters.AddWithValue("roles", roles.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var memberships = new List<Membership>();
        while (await reader.ReadAsync(cancellationToken))
        {
            memberships.Add(new Membership(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        return memberships;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>One role membership: <paramref name="Member"/> is granted <paramref name="Role"/>.</summary>
    internal sealed record Membership(string Role, string Member, bool AdminOption);
}
