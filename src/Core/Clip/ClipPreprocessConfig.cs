using System.Text.Json;

namespace DbFirst.Clip;

/// <summary>
/// CLIP image preprocessing constants: resize the shorter side to <see cref="ResizeShortSide"/>, center-crop
/// <see cref="CropSize"/>, normalise each RGB channel with <see cref="Mean"/> and <see cref="Std"/>.
/// </summary>
internal sealed record ClipPreprocessConfig(int ResizeShortSide, int CropSize, float[] Mean, float[] Std)
{
    /// <summary>OpenAI CLIP's values (clip/clip.py <c>_transform</c>), used when a model folder states none.</summary>
    public static ClipPreprocessConfig OpenAiDefault { get; } = new(
        224, 224, [0.48145466f, 0.4578275f, 0.40821073f], [0.26862954f, 0.26130258f, 0.27577711f]);

    /// <summary>
    /// Reads Immich's <c>visual/preprocess_cfg.json</c> (open_clip keys <c>size</c>, <c>mean</c>, <c>std</c>) or
    /// Hugging Face's <c>preprocessor_config.json</c> (<c>size</c>, <c>crop_size</c>, <c>image_mean</c>,
    /// <c>image_std</c>); missing values fall back to <see cref="OpenAiDefault"/>.
    /// </summary>
    public static ClipPreprocessConfig Load(string? configPath)
    {
        if (configPath is null || !File.Exists(configPath))
        {
            return OpenAiDefault;
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(configPath));
        var root = document.RootElement;
        var fallback = OpenAiDefault;

        var crop = ReadSize(root, "crop_size") ?? ReadSize(root, "size") ?? fallback.CropSize;
        var resize = ReadSize(root, "size") ?? crop;
        var mean = ReadTriple(root, "image_mean") ?? ReadTriple(root, "mean") ?? fallback.Mean;
        var std = ReadTriple(root, "image_std") ?? ReadTriple(root, "std") ?? fallback.Std;
        return new ClipPreprocessConfig(resize, crop, mean, std);
    }

    private static int? ReadSize(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetInt32(),
            JsonValueKind.Array when value.GetArrayLength() > 0 => value.EnumerateArray().Min(v => v.GetInt32()),
            JsonValueKind.Object when value.TryGetProperty("shortest_edge", out var s) => s.GetInt32(),
            JsonValueKind.Object when value.TryGetProperty("height", out var h) => h.GetInt32(),
            _ => null,
        };
    }

    private static float[]? ReadTriple(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 3
            ? value.EnumerateArray().Select(v => v.GetSingle()).ToArray()
            : null;
}
