using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Lets <c>gallery.search</c> run on a hot standby: <c>gallery.text_embedding</c> skips its cache writes during recovery.
/// </summary>
[Migration(95, "gallery.text_embedding writes its cache only on the primary, so gallery.search works on a streaming standby")]
public sealed class ReadOnStandby : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0095_standby_reads.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0095_standby_reads_down.sql");
}
