using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Every search function, the text-embedding cache and <c>near_duplicates</c> consider only the active model, read
/// once per call; the vector queries name the model's partition and index expression as literals.
/// </summary>
[Migration(102, "Searches, the text cache and near_duplicates use the active model only")]
public sealed class SearchActiveModel : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0102_search_active_model.sql");

    /// <inheritdoc />
    /// <remarks>Migration 90's functions, restored with CREATE OR REPLACE so their grants stay.</remarks>
    public override void Down() => Execute.EmbeddedScript("0102_search_active_model_down.sql");
}
