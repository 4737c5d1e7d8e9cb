using System.Text.Encodings.Web;
using System.Text.Json;

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
    long SymlinksSkipped)
{
    /// <summary>Whether any row was added or changed, i.e. there may be new work for the embedding job.</summary>
    public bool ChangedRows => Added + Updated > 0;

    /// <summary>The <c>--json</c> summary: one object, keys in a fixed order.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteNumber("scanned", Scanned);
            json.WriteNumber("added", Added);
            json.WriteNumber("updated", Updated);
            json.WriteNumber("unchanged", Unchanged);
            json.WriteNumber("unsupported", Unsupported);
            json.WriteStartArray("failed");
            foreach (var failure in Failed)
            {
                json.WriteStartObject();
                json.WriteString("path", failure.Path);
                json.WriteString("error", failure.Error);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("missing");
            foreach (var path in Missing)
            {
                json.WriteStringValue(path);
            }

            json.WriteEndArray();
            json.WriteNumber("pruned", Pruned);
            json.WriteStartArray("duplicates");
            foreach (var group in Duplicates)
            {
                json.WriteStartArray();
                foreach (var path in group)
                {
                    json.WriteStringValue(path);
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteNumber("symlinksSkipped", SymlinksSkipped);
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
