using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.image_gallery</c>, one row per image file, and the index that finds pending work.</summary>
[DownLoses("rows of gallery.image_gallery (images with their embeddings and descriptions)", "SELECT count(*) FROM gallery.image_gallery")]
[Migration(2, "Create table gallery.image_gallery")]
public sealed class CreateImageGallery : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0002_image_gallery.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP TABLE IF EXISTS gallery.image_gallery;");
}
