using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Adds the GIN index behind <c>gallery.search_descriptions</c>.</summary>
/// <remarks>Built <c>CONCURRENTLY</c> so a live gallery keeps taking writes, which PostgreSQL allows only outside a transaction; an invalid index left by a failed build is rebuilt, not kept.</remarks>
[Migration(15, TransactionBehavior.None, "Create GIN index on image_gallery.description_tsv")]
public sealed class CreateDescriptionTsvIndex : Migration
{
    private const string IndexName = "gallery.image_gallery_description_tsv_idx";

    /// <inheritdoc />
    public override void Up()
    {
        Execute.WithConnection((connection, transaction) => InvalidIndexes.DropIfInvalid(connection, transaction, IndexName));
        Execute.Sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS image_gallery_description_tsv_idx ON gallery.image_gallery USING gin (description_tsv);");
        Execute.Sql(InvalidIndexes.RequireValidSql(IndexName));
    }

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP INDEX CONCURRENTLY IF EXISTS gallery.image_gallery_description_tsv_idx;");
}
