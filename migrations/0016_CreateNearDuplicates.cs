using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.near_duplicates</c>: near-identical image pairs through a per-image k-NN on the vector index.</summary>
[Migration(16, "Create function gallery.near_duplicates")]
public sealed class CreateNearDuplicates : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0016_near_duplicates.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP FUNCTION IF EXISTS gallery.near_duplicates(real, int, text);");
}
