using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// A model's managed vector index may be built at half precision (<c>embedding::halfvec(N)</c>,
/// <c>halfvec_cosine_ops</c>); the functions that probe the index read its precision from the catalog and order
/// candidates by the expression it serves, still returning full-precision distances.
/// </summary>
[Migration(115, "Search functions use a half-precision managed index when a model has one")]
public sealed class SearchHalfPrecisionIndex : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0115_half_precision_index.sql");

    /// <inheritdoc />
    /// <remarks>Migrations 101-102's functions restored; a half-precision managed index is rebuilt at full precision first.</remarks>
    public override void Down() => Execute.EmbeddedScript("0115_half_precision_index_down.sql");
}
