using System.Text.Encodings.Web;
using System.Text.Json;

namespace DbFirst;

/// <summary>
/// The one set of JSON options for everything DbFirst writes: every command's <c>--json</c>, <c>/health</c>, the
/// embed-text endpoint and benchmark result files. snake_case keys, one line (so a run appends to a log as JSON
/// Lines), non-ASCII kept readable (paths and descriptions are people's text). Keys that predate this choice keep
/// their spelling through <c>[JsonPropertyName]</c>.
/// </summary>
internal static class DbFirstJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        // Shared by every caller, so nobody may change it after the fact.
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
