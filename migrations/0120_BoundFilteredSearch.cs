using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// A filtered search whose filter passes at most 10,000 rows ranks them all (a bounded exact scan) instead of
/// betting on an iterative index scan that assumed the passing rows were spread evenly: a folder's photos sit
/// together, and the scan waded through thousands of nearer rows outside it.
/// </summary>
[Migration(120, "Filtered search ranks a small filter's rows exactly, whatever its shape")]
public sealed class BoundFilteredSearch : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0120_bounded_filtered_search.sql");

    /// <inheritdoc />
    /// <remarks>Migration 115's search_model (and its choice of path) restored; nothing is stored by either.</remarks>
    public override void Down() => Execute.EmbeddedScript("0120_bounded_filtered_search_down.sql");
}
