using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.index_builds</c>, the history of vector index builds that index status and maintenance read.</summary>
[DownLoses("rows of gallery.index_builds (the index build history)", "SELECT count(*) FROM gallery.index_builds")]
[Migration(17, "Create table gallery.index_builds")]
public sealed class CreateIndexBuilds : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0017_index_builds.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP TABLE IF EXISTS gallery.index_builds;");
}
