namespace DbFirst.Clip;

/// <summary>
/// The files of a CLIP model folder in either Immich's layout (<c>visual/model.onnx</c>, <c>textual/model.onnx</c>,
/// <c>config.json</c>, <c>visual/preprocess_cfg.json</c>, tokenizer under <c>textual/</c>) or the Hugging Face ONNX
/// export's (<c>onnx/vision_model.onnx</c>, <c>onnx/text_model.onnx</c>, <c>vocab.json</c>, <c>merges.txt</c>,
/// <c>preprocessor_config.json</c>).
/// </summary>
internal sealed record ClipModelFiles(
    string Directory,
    string Layout,
    string VisualModel,
    string TextualModel,
    string? ConfigJson,
    string? PreprocessConfig,
    string? Vocab,
    string? Merges,
    string? TokenizerJson)
{
    /// <summary>Finds the model files under <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither layout's ONNX files are there.</exception>
    public static ClipModelFiles Find(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"CLIP model folder not found: {dir}");
        }

        string P(params string[] parts) => Path.Combine([dir, .. parts]);
        string? IfExists(string path) => File.Exists(path) ? path : null;

        if (File.Exists(P("visual", "model.onnx")) && File.Exists(P("textual", "model.onnx")))
        {
            return new ClipModelFiles(dir, "immich", P("visual", "model.onnx"), P("textual", "model.onnx"),
                IfExists(P("config.json")),
                IfExists(P("visual", "preprocess_cfg.json")),
                IfExists(P("textual", "vocab.json")) ?? IfExists(P("vocab.json")),
                IfExists(P("textual", "merges.txt")) ?? IfExists(P("merges.txt")),
                IfExists(P("textual", "tokenizer.json")) ?? IfExists(P("tokenizer.json")));
        }

        if (File.Exists(P("onnx", "vision_model.onnx")) && File.Exists(P("onnx", "text_model.onnx")))
        {
            return new ClipModelFiles(dir, "huggingface", P("onnx", "vision_model.onnx"), P("onnx", "text_model.onnx"),
                IfExists(P("config.json")),
                IfExists(P("preprocessor_config.json")),
                IfExists(P("vocab.json")),
                IfExists(P("merges.txt")),
                IfExists(P("tokenizer.json")));
        }

        throw new FileNotFoundException(
            $"No CLIP model in {dir}: expected visual/model.onnx + textual/model.onnx (Immich) or onnx/vision_model.onnx + onnx/text_model.onnx (Hugging Face)");
    }
}
