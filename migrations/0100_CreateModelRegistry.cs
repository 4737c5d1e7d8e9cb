using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// The model registry: <c>gallery.clip_models</c>, embeddings in <c>gallery.image_embeddings</c> (one partition per
/// model, any dimension), the pending queue <c>gallery.embedding_pending</c>; existing embeddings move there unchanged.
/// </summary>
/// <remarks>
/// The managed vector index is rebuilt on the active model's partition inside the migration's transaction (not
/// concurrently: the partition is new and the old column is dropped in the same step).
/// </remarks>
[Migration(100, "Create the model registry; embeddings move to gallery.image_embeddings, partitioned by model")]
[DownLoses(
    "embeddings of models other than the active one",
    "SELECT count(*) FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id WHERE m.state <> 'active'")]
public sealed class CreateModelRegistry : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0100_model_registry.sql");

    /// <inheritdoc />
    /// <remarks>The active model's embeddings return to <c>image_gallery.embedding</c>; the other models' are lost.</remarks>
    public override void Down() => Execute.EmbeddedScript("0100_model_registry_down.sql");
}
