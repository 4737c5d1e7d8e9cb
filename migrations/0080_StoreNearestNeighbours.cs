using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Stores each image's nearest neighbours when its embedding is written (statement triggers), so
/// <c>gallery.near_duplicates</c> reads stored pairs instead of probing the index once per image.
/// Existing images are queued and filled in bounded batches by <c>gallery.fill_neighbours</c>.
/// </summary>
[Migration(80, "Store nearest neighbours per image; near_duplicates reads them")]
public sealed class StoreNearestNeighbours : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0080_stored_neighbours.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0080_stored_neighbours_down.sql");
}
