using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Adds the generated <c>description_tsv</c> column and the functions <c>gallery.search_descriptions</c>
/// (full text) and <c>gallery.hybrid_search</c> (reciprocal-rank fusion with <c>gallery.search</c>).
/// </summary>
[Migration(14, "Add image_gallery.description_tsv and functions search_descriptions, hybrid_search")]
public sealed class CreateDescriptionSearch : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0014_description_search.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP FUNCTION IF EXISTS gallery.hybrid_search(text, int, text, timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS gallery.search_descriptions(text, int, text, timestamptz, timestamptz);
        ALTER TABLE gallery.image_gallery DROP COLUMN IF EXISTS description_tsv;
        """);
}
