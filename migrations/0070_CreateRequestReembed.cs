using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Adds <c>gallery.request_reembed(image_id)</c>, which the gallery page's "re-embed" button calls.</summary>
[Migration(70, "Add gallery.request_reembed")]
public sealed class CreateRequestReembed : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0070_request_reembed.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP FUNCTION IF EXISTS gallery.request_reembed(bigint);");
}
