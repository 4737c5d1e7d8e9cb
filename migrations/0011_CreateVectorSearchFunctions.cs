using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.search_by_embedding</c> and <c>gallery.similar_images</c> (cosine k-NN with filters).</summary>
[Migration(11, "Create functions gallery.search_by_embedding and gallery.similar_images")]
public sealed class CreateVectorSearchFunctions : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0011_vector_search.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP FUNCTION IF EXISTS gallery.similar_images(bigint, int, text, timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS gallery.search_by_embedding(vector, int, text, timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS gallery.search_tuning();
        """);
}
