using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Adds the HNSW index that serves cosine-distance searches on <c>embedding</c>.</summary>
/// <remarks>
/// Built <c>CONCURRENTLY</c> so a migration on a live gallery never blocks writers, which
/// PostgreSQL allows only outside a transaction.
/// </remarks>
[Migration(3, TransactionBehavior.None, "Create HNSW index on image_gallery.embedding (cosine, m=16, ef_construction=64)")]
public sealed class CreateEmbeddingHnswIndex : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.Sql(
        """
        CREATE INDEX CONCURRENTLY IF NOT EXISTS image_gallery_embedding_idx
          ON gallery.image_gallery USING hnsw (embedding vector_cosine_ops)
          WITH (m = 16, ef_construction = 64);
        """);

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP INDEX CONCURRENTLY IF EXISTS gallery.image_gallery_embedding_idx;");
}
