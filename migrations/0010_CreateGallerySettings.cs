using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.settings</c>, the run-time settings the SQL functions read (embed URL, tuned search breadth).</summary>
[Migration(10, "Create table gallery.settings (embed_url, tuned index search settings)")]
public sealed class CreateGallerySettings : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0010_settings.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP TABLE IF EXISTS gallery.settings;");
}
