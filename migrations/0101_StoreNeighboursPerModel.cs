using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Stored neighbours per model: <c>gallery.image_neighbours</c> and <c>gallery.neighbour_pending</c> gain <c>model_id</c>,
/// and the triggers that keep them move to <c>gallery.image_embeddings</c>.
/// </summary>
[Migration(101, "Stored neighbours per model, kept by triggers on gallery.image_embeddings")]
[DownLoses(
    "stored neighbours of models other than the active one",
    "SELECT count(*) FROM gallery.image_neighbours n JOIN gallery.clip_models m ON m.id = n.model_id WHERE m.state <> 'active'")]
public sealed class StoreNeighboursPerModel : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0101_neighbours_per_model.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0101_neighbours_per_model_down.sql");
}
