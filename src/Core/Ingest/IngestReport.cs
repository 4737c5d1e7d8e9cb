using System.Text.Json;
using System.Text.Json.Serialization;

namespace DbFirst.Ingest;

/// <summary>What an ingest did. <c>Scanned = Added + Updated + Unchanged + Unsupported + failed files</c>;
/// <see cref="Failed"/> also lists folders that could not be read and links that dangle.</summary>
/// <param name="Scanned">Files met under the roots (links not followed are not counted).</param>
/// <param name="Added">Images registered for the first time.</param>
/// <param name="Updated">Images whose row changed; those whose content changed lost their embedding and description.</param>
/// <param name="Unchanged">Images whose row already said everything.</param>
/// <param name="Unsupported">Files that are not JPEG, PNG, WebP, GIF or BMP by their bytes (empty files included).</param>
/// <param name="Failed">What could not be read, and why.</param>
/// <param name="Missing">Rows under the roots whose file is gone.</param>
/// <param name="Pruned">Of those, rows deleted (with <c>--prune</c>).</param>
/// <param name="Duplicates">Groups of paths with identical content, each group with at least one path scanned now.</param>
/// <param name="SymlinksSkipped">Links left alone because links are not followed.</param>
public sealed record IngestReport(
    long Scanned,
    long Added,
    long Updated,
    long Unchanged,
    long Unsupported,
    IReadOnlyList<IngestFailure> Failed,
    IReadOnlyList<string> Missing,
    long Pruned,
    IReadOnlyList<IReadOnlyList<string>> Duplicates,
    // The --json key keeps the camelCase it was published with.
    [property: JsonPropertyName("symlinksSkipped")] long SymlinksSkipped)
{
    /// <summary>Whether any row was added or changed, i.e. there may be new work for the embedding job.</summary>
    [JsonIgnore]
    public bool ChangedRows => Added + Updated > 0;

    /// <summary>The <c>--json</c> summary: one object, keys in the record's order.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DbFirstJson.Options);
}
