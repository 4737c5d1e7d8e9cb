using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Gives schema <c>hangfire</c> to the runtime login <c>dbfirst_app</c>, which runs the Hangfire servers and lets
/// Hangfire.PostgreSql create and upgrade its own tables there (its only DDL).
/// </summary>
[Migration(41, "Hand schema hangfire to the runtime login dbfirst_app")]
public sealed class HandHangfireSchemaToRuntimeLogin : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0041_hangfire_schema.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DO $hangfire$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'hangfire' AND nspowner = (SELECT oid FROM pg_roles WHERE rolname = 'dbfirst_app')) THEN
            IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hangfire') THEN
              DROP SCHEMA hangfire;  -- Up created it and Hangfire never ran
            ELSE
              REASSIGN OWNED BY dbfirst_app TO CURRENT_USER;
            END IF;
          END IF;
        END;
        $hangfire$;
        """);
}
