using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// <c>gallery.search_by_embedding</c> returns k rows whenever k pass its filter: an exact scan for selective
/// filters, else the iterative index scan with an exact fallback when it comes back short.
/// </summary>
[Migration(81, "search_by_embedding: exact scan for selective filters, fallback when the index scan comes back short")]
public sealed class KeepFilteredSearchPromise : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0081_filtered_search.sql");

    /// <inheritdoc />
    /// <remarks>Migration 11's function, restored with CREATE OR REPLACE so its grants stay.</remarks>
    public override void Down() => Execute.EmbeddedScript("0081_filtered_search_down.sql");
}
