using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// The model lifecycle functions behind <c>dbfirst model stage|promote|rollback|drop</c>: stage, promote, rollback,
/// drop, each one transaction under the registry's advisory lock, owner only.
/// </summary>
[Migration(105, "Add the model lifecycle functions")]
public sealed class CreateModelLifecycle : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0105_model_lifecycle.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("""
        DROP FUNCTION IF EXISTS gallery.drop_model(text, boolean);
        DROP FUNCTION IF EXISTS gallery.rollback_model();
        DROP FUNCTION IF EXISTS gallery.promote_model(double precision);
        DROP FUNCTION IF EXISTS gallery.stage_model(text, integer, text, text);
        """);
}
