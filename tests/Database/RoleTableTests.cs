using System.Text.RegularExpressions;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

/// <summary>
/// The README's role table is the contract a DBA reads: each row is checked against <c>pg_roles</c>, the memberships
/// and the grants of a migrated database, both ways (what it says is granted, and that nothing more is).
/// </summary>
public sealed partial class RoleTableTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _fixture;

    public RoleTableTests(PostgresFixture fixture) => _fixture = fixture;

    public static TheoryData<string> Roles => new(ReadTable().Select(row => row.Role));

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task ReadmeRow_MatchesTheServer(string role)
    {
        var row = ReadTable().Single(r => r.Role == role);
        var database = _fixture.Database;

        var attributes = await database.ScalarAsync<string>(
            $"SELECT concat_ws(',', rolcanlogin::text, rolsuper::text, rolcreatedb::text) FROM pg_roles WHERE rolname = '{role}'");
        var memberOf = await database.ScalarAsync<string>(
            $"""
            SELECT coalesce(string_agg(g.rolname, ',' ORDER BY g.rolname), '')
            FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
            WHERE r.rolname = '{role}'
            """);
        var tableGrants = await database.ScalarAsync<string>(
            $"""
            SELECT coalesce(string_agg(privilege_type || ' ' || table_name, ',' ORDER BY table_name, privilege_type), '')
            FROM information_schema.role_table_grants
            WHERE grantee = '{role}' AND table_schema = 'gallery'
            """);
        var functionGrants = await database.ScalarAsync<string>(
            $"""
            SELECT coalesce(string_agg(DISTINCT routine_schema || '.' || routine_name, ',' ORDER BY routine_schema || '.' || routine_name), '')
            FROM information_schema.role_routine_grants
            WHERE grantee = '{role}' AND privilege_type = 'EXECUTE' AND routine_schema IN ('gallery', 'gallery_encoder', 'gallery_monitor')
            """);

        Assert.Equal($"{row.LogsIn},{row.Superuser},{row.CreatesDatabases}", attributes);
        Assert.Equal(string.Join(',', row.MemberOf.Order(StringComparer.Ordinal)), memberOf);
        foreach (var schema in row.OwnedSchemas)
        {
            Assert.Equal(role, await database.ScalarAsync<string>($"SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = '{schema}'"));
        }

        foreach (var schema in row.SchemaUsage)
        {
            Assert.True(await database.ScalarAsync<bool>($"SELECT has_schema_privilege('{role}', '{schema}', 'USAGE')"));
        }

        // The owner holds every right on what it owns; for the others the table lists exactly what is granted.
        if (!row.OwnedSchemas.Contains("gallery"))
        {
            Assert.Equal(string.Join(',', row.TableGrants.Order(StringComparer.Ordinal)), string.Join(',', (tableGrants ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)));
            Assert.Equal(string.Join(',', row.Functions.Select(Qualify).Order(StringComparer.Ordinal)), functionGrants);
        }
        else
        {
            foreach (var function in row.Functions.Select(Qualify))
            {
                Assert.True(await database.ScalarAsync<bool>(
                    $"SELECT bool_and(has_function_privilege('{role}', p.oid, 'EXECUTE')) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname || '.' || p.proname = '{function}'"));
            }
        }
    }

    [Fact]
    public void Table_NamesEveryDbFirstRole()
    {
        Assert.Equal(["dbfirst_app", "dbfirst_owner", "dbfirst_replicator", "gallery_analyst", "gallery_operator"], ReadTable().Select(r => r.Role).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OnlyTheReplicator_MayReplicate_AndItHasNoRightsInTheDatabase()
    {
        var database = _fixture.Database;

        Assert.Equal("dbfirst_replicator", await database.ScalarAsync<string>(
            "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolreplication AND NOT rolsuper"));
        Assert.False(await database.ScalarAsync<bool>("SELECT has_schema_privilege('dbfirst_replicator', 'gallery', 'USAGE')"));
        Assert.False(await database.ScalarAsync<bool>("SELECT has_database_privilege('dbfirst_replicator', current_database(), 'CREATE')"));
        Assert.False(await database.ScalarAsync<bool>("SELECT pg_has_role('dbfirst_replicator', 'gallery_analyst', 'MEMBER')"));
    }

    private static string Qualify(string function) => function.Contains('.', StringComparison.Ordinal) ? function : $"gallery.{function}";

    private static List<RoleRow> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var header = Array.FindIndex(lines, l => l.StartsWith("| role | logs in | superuser | creates databases | member of | rights | used by |", StringComparison.Ordinal));
        Assert.True(header >= 0, "README.md has no role table");
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')).Select(Parse).ToList();
    }

    private static RoleRow Parse(string line)
    {
        var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
        var row = new RoleRow(
            Names(cells[0]).Single(),
            cells[1] == "yes" ? "true" : "false",
            cells[2] == "yes" ? "true" : "false",
            cells[3] == "yes" ? "true" : "false",
            Names(cells[4]));
        // Parenthesised remarks explain; they are not grants.
        foreach (var clause in Parenthesised().Replace(cells[5], "").Split(';').Select(c => c.Trim()).Where(c => c.Length > 0))
        {
            if (clause.StartsWith("owns schema ", StringComparison.Ordinal))
            {
                row.OwnedSchemas.AddRange(Names(clause));
            }
            else if (clause.StartsWith("EXECUTE ", StringComparison.Ordinal))
            {
                row.Functions.AddRange(Names(clause));
            }
            else if (clause.StartsWith("USAGE on schema ", StringComparison.Ordinal))
            {
                row.SchemaUsage.AddRange(Names(clause));
            }
            else
            {
                var on = clause.IndexOf(" on ", StringComparison.Ordinal);
                Assert.True(on > 0, $"cannot read the clause '{clause}' of the role table");
                var privileges = clause[..on].Split(',').Select(p => p.Trim());
                row.TableGrants.AddRange(privileges.SelectMany(p => Names(clause[on..]).Select(t => $"{p} {t}")));
            }
        }

        return row;
    }

    private static List<string> Names(string text) => Backticked().Matches(text).Select(m => m.Groups[1].Value).ToList();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthesised();

    private sealed record RoleRow(string Role, string LogsIn, string Superuser, string CreatesDatabases, List<string> MemberOf)
    {
        public List<string> OwnedSchemas { get; } = [];

        public List<string> SchemaUsage { get; } = [];

        public List<string> TableGrants { get; } = [];

        public List<string> Functions { get; } = [];
    }
}
