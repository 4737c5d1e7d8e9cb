using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Adds the describe bookkeeping columns (token counts, attempts, last error, request time) to
/// <c>gallery.image_gallery</c> and the function <c>gallery.request_description(image_id)</c>.
/// </summary>
[DownLoses("images with describe token counts, requests or errors recorded", "SELECT count(*) FROM gallery.image_gallery WHERE describe_input_tokens IS NOT NULL OR describe_requested_at IS NOT NULL OR describe_error IS NOT NULL")]
[Migration(30, "Add describe token, error and request columns and gallery.request_description")]
public sealed class AddDescribeColumns : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0030_describe_columns.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP FUNCTION IF EXISTS gallery.request_description(bigint);
        DROP INDEX IF EXISTS gallery.image_gallery_describe_requested_idx;
        ALTER TABLE gallery.image_gallery
          DROP COLUMN IF EXISTS describe_input_tokens,
          DROP COLUMN IF EXISTS describe_output_tokens,
          DROP COLUMN IF EXISTS describe_attempts,
          DROP COLUMN IF EXISTS describe_error,
          DROP COLUMN IF EXISTS describe_requested_at;
        """);
}
