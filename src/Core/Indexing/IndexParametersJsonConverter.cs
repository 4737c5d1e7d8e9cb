using System.Text.Json;
using System.Text.Json.Serialization;

namespace DbFirst.Indexing;

/// <summary>
/// Writes <see cref="IndexParameters"/> as its text (<c>"m = 16, ef_construction = 64"</c>), the form <c>--json</c>
/// output has always had; reads it back by its keys.
/// </summary>
internal sealed class IndexParametersJsonConverter : JsonConverter<IndexParameters>
{
    public override IndexParameters? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        var method = text is not null && text.Contains("lists", StringComparison.Ordinal) ? VectorIndexManager.Ivfflat : VectorIndexManager.Hnsw;
        return IndexParameters.Parse(method, text);
    }

    public override void Write(Utf8JsonWriter writer, IndexParameters value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToString());
}
