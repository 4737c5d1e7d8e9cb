using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// A model's managed vector index may be built on sign bits (<c>binary_quantize(embedding::vector(N))::bit(N)</c>,
/// <c>bit_hamming_ops</c>); the functions that probe it fetch k × <c>binary.rerank_factor</c> candidates by Hamming
/// distance and keep the k nearest by full-precision distance.
/// </summary>
[Migration(125, "Search functions use a binary-quantized managed index with exact re-ranking")]
public sealed class SearchBinaryQuantizedIndex : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0125_binary_quantized_index.sql");

    /// <inheritdoc />
    /// <remarks>Migrations 115 and 120's functions restored; a binary managed index is rebuilt at full precision first.</remarks>
    public override void Down() => Execute.EmbeddedScript("0125_binary_quantized_index_down.sql");
}
