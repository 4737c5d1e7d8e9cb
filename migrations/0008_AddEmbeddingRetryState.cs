using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Adds the columns that tell transient embedding failures from permanent ones, and the trigger that
/// resets a row's embedding state when its content changes.
/// </summary>
[Migration(8, "Add embedding retry state (embed_error_permanent, embed_failed_at) and reset it on content change")]
public sealed class AddEmbeddingRetryState : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0008_embedding_retry_state.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP TRIGGER IF EXISTS image_gallery_content_changed ON gallery.image_gallery;
        DROP FUNCTION IF EXISTS gallery.reset_embedding_on_content_change();
        ALTER TABLE gallery.image_gallery
          DROP COLUMN IF EXISTS embed_failed_at,
          DROP COLUMN IF EXISTS embed_error_permanent;
        """);
}
