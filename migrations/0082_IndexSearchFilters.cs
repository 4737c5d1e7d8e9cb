using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Indexes the search filters (folder prefix in byte order, taken_at), so <c>gallery.search_by_embedding</c>
/// counts and reads the rows a selective filter keeps without scanning the table.
/// </summary>
/// <remarks>Built <c>CONCURRENTLY</c> so a live gallery keeps taking writes, which PostgreSQL allows only outside a transaction; an invalid index left by a failed build is rebuilt, not kept.</remarks>
[Migration(82, TransactionBehavior.None, "Create indexes on image_gallery path (C collation) and taken_at")]
public sealed class IndexSearchFilters : Migration
{
    private const string PathIndex = "gallery.image_gallery_path_c_idx";
    private const string TakenAtIndex = "gallery.image_gallery_taken_at_idx";

    /// <inheritdoc />
    public override void Up()
    {
        Execute.WithConnection((connection, transaction) => InvalidIndexes.DropIfInvalid(connection, transaction, PathIndex));
        Execute.Sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS image_gallery_path_c_idx ON gallery.image_gallery ((path COLLATE \"C\"));");
        Execute.Sql(InvalidIndexes.RequireValidSql(PathIndex));
        Execute.WithConnection((connection, transaction) => InvalidIndexes.DropIfInvalid(connection, transaction, TakenAtIndex));
        Execute.Sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS image_gallery_taken_at_idx ON gallery.image_gallery (taken_at);");
        Execute.Sql(InvalidIndexes.RequireValidSql(TakenAtIndex));
    }

    /// <inheritdoc />
    public override void Down()
    {
        Execute.Sql("DROP INDEX CONCURRENTLY IF EXISTS gallery.image_gallery_taken_at_idx;");
        Execute.Sql("DROP INDEX CONCURRENTLY IF EXISTS gallery.image_gallery_path_c_idx;");
    }
}
