using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// The content-change trigger also clears the Claude description, so "new content resets derived data" has one
/// home for every writer; ingest no longer repeats it.
/// </summary>
[Migration(92, "Content-change trigger also clears the description (ingest no longer repeats the rule)")]
public sealed class ResetDerivedDataInTrigger : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0092_content_change_resets_derived.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0092_content_change_resets_derived_down.sql");
}
