using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Adds the HNSW index that serves cosine-distance searches on <c>embedding</c>.</summary>
/// <remarks>
/// Built <c>CONCURRENTLY</c> so a migration on a live gallery never blocks writers, which
/// PostgreSQL allows only outside a transaction. An invalid index left by an earlier failed build is dropped first,
/// and the migration fails rather than being recorded unless the index ends up valid.
/// </remarks>
[Migration(3, TransactionBehavior.None, "Create HNSW index on image_gallery.embedding (cosine, m=16, ef_construction=64)")]
public sealed class CreateEmbeddingHnswIndex : Migration
{
    private const string IndexName = "gallery.image_gallery_embedding_idx";

    /// <inheritdoc />
    public override void Up()
    {
        Execute.WithConnection((connection, transaction) => InvalidIndexes.DropIfInvalid(connection, transaction, IndexName));
        Execute.Sql(
            """
            CREATE INDEX CONCURRENTLY IF NOT EXISTS image_gallery_embedding_idx
              ON gallery.image_gallery USING hnsw (embedding vector_cosine_ops)
              WITH (m = 16, ef_construction = 64);
            """);
        Execute.Sql(InvalidIndexes.RequireValidSql(IndexName));
    }

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP INDEX CONCURRENTLY IF EXISTS gallery.image_gallery_embedding_idx;");
}
