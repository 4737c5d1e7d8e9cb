using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Makes <c>gallery.request_description</c> callable by <c>gallery_operator</c>: it runs with its owner's rights,
/// with a pinned search_path and a checked argument.
/// </summary>
[Migration(56, "Let gallery_operator call gallery.request_description (SECURITY DEFINER)")]
public sealed class LetOperatorsRequestDescriptions : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0056_request_description.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0056_request_description_down.sql");
}
