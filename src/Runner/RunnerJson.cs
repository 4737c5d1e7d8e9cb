using System.Text.Encodings.Web;
using System.Text.Json;

namespace DbFirst.Runner;

/// <summary>How commands print <c>--json</c>: indented, non-ASCII kept readable.</summary>
internal static class RunnerJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
