using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.ask_cache</c>, the answers <c>dbfirst ask</c> reuses instead of calling Claude again.</summary>
[DownLoses("paid Claude answers in gallery.ask_cache", "SELECT count(*) FROM gallery.ask_cache")]
[Migration(31, "Create table gallery.ask_cache")]
public sealed class CreateAskCache : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0031_ask_cache.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP TABLE IF EXISTS gallery.ask_cache;");
}
