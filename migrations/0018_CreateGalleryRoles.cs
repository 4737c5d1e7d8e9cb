using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates the group roles <c>gallery_analyst</c> (read and search) and <c>gallery_operator</c> (also settings).</summary>
/// <remarks>
/// Roles are cluster-wide while grants are per database, so Up tolerates existing roles and Down revokes
/// in this database, then drops the roles only when no other database still uses them.
/// </remarks>
[DownDropsRoles("gallery_analyst", "gallery_operator")]
[Migration(18, "Create roles gallery_analyst and gallery_operator with their grants")]
public sealed class CreateGalleryRoles : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0018_roles.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0018_roles_down.sql");
}
