using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates the group roles <c>gallery_analyst</c> (read and search) and <c>gallery_operator</c> (also settings).</summary>
/// <remarks>
/// Roles are cluster-wide while grants are per database, so Up tolerates existing roles and Down revokes
/// in this database, then drops the roles only when no other database still uses them. On the local cluster the
/// superuser step of <c>scripts/db.sh</c> creates the roles, so Up only grants; the owner, who may not drop roles,
/// only revokes on the way down.
/// </remarks>
[DownDropsRoles("gallery_analyst", "gallery_operator")]
[Migration(18, "Create roles gallery_analyst and gallery_operator with their grants")]
public sealed class CreateGalleryRoles : Migration
{
    private const string RevokeOnly =
        """
        DO $roles$
        DECLARE
          role_name text;
        BEGIN
          FOREACH role_name IN ARRAY ARRAY['gallery_operator', 'gallery_analyst'] LOOP
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
              EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA gallery FROM %I', role_name);
              EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gallery FROM %I', role_name);
              EXECUTE format('REVOKE ALL ON SCHEMA gallery FROM %I', role_name);
            END IF;
          END LOOP;
        END;
        $roles$;
        """;

    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0018_roles.sql");

    /// <inheritdoc />
    public override void Down()
    {
        Execute.WithConnection((connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user";
            command.CommandText = command.ExecuteScalar() is true ? EmbeddedSql.Read("0018_roles_down.sql") : RevokeOnly;
            command.ExecuteNonQuery();
        });
    }
}
