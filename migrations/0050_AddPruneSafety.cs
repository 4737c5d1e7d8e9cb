using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Adds what safe pruning needs: <c>gallery.ingest_roots</c> (the filesystem each root was on), <c>gallery.prune_log</c>
/// (every row prune deleted, readable by <c>gallery_operator</c>) and <c>image_gallery.ingested_via_symlink</c>.
/// </summary>
[DownLoses("rows of gallery.prune_log (the record of what prune deleted)", "SELECT count(*) FROM gallery.prune_log")]
[Migration(50, "Create ingest_roots and prune_log; add image_gallery.ingested_via_symlink")]
public sealed class AddPruneSafety : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0050_prune_safety.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        ALTER TABLE gallery.image_gallery DROP COLUMN IF EXISTS ingested_via_symlink;
        DROP TABLE IF EXISTS gallery.prune_log;
        DROP TABLE IF EXISTS gallery.ingest_roots;
        """);
}
