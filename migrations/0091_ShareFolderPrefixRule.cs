using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// <c>gallery.folder_prefix(text)</c>, the folder filter's rule in one IMMUTABLE function, called by
/// <c>search_by_embedding</c>, <c>search_descriptions</c> and <c>near_duplicates</c> instead of a copy each.
/// </summary>
[Migration(91, "gallery.folder_prefix: one home for the folder filter's rule, used by the filtered functions")]
public sealed class ShareFolderPrefixRule : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0091_folder_prefix.sql");

    /// <inheritdoc />
    /// <remarks>The three functions as migrations 14, 80 and 81 left them, restored with CREATE OR REPLACE so their grants stay.</remarks>
    public override void Down() => Execute.EmbeddedScript("0091_folder_prefix_down.sql");
}
