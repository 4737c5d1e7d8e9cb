using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Creates <c>gallery.search(query, k)</c>: text-to-image search from plain SQL, with text embeddings from
/// <c>dbfirst serve</c> cached in <c>gallery.text_embeddings</c>.
/// </summary>
[Migration(13, "Create gallery.text_embeddings and function gallery.search (text to image)")]
public sealed class CreateTextSearch : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0013_text_search.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP FUNCTION IF EXISTS gallery.search(text, int, text, timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS gallery.text_embedding(text);
        DROP FUNCTION IF EXISTS gallery.fetch_text_embedding(text, text, int);
        DROP TABLE IF EXISTS gallery.text_embeddings;
        DELETE FROM gallery.settings WHERE key = 'embed_model';
        """);
}
