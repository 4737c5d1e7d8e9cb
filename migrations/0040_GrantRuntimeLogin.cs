using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Grants the runtime login <c>dbfirst_app</c> the table rights its commands need (README "Security").</summary>
[Migration(40, "Grant the runtime login dbfirst_app its table rights")]
public sealed class GrantRuntimeLogin : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0040_runtime_login.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA gallery FROM dbfirst_app;
        REVOKE ALL ON ALL TABLES IN SCHEMA gallery FROM dbfirst_app;
        REVOKE ALL ON SCHEMA gallery FROM dbfirst_app;
        """);
}
