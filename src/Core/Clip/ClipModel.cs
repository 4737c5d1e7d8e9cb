using System.Text.Json;

namespace DbFirst.Clip;

/// <summary>
/// A loaded CLIP model: preprocessing, tokenizer, image and text encoders, all safe to share between threads.
/// </summary>
internal sealed class ClipModel : IDisposable
{
    private ClipModel(string name, ClipModelFiles files, bool isTestModel, ClipImagePreprocessor preprocessor,
        ClipImageEncoder imageEncoder, ClipTextEncoder textEncoder, int dimension)
    {
        Name = name;
        Files = files;
        IsTestModel = isTestModel;
        Preprocessor = preprocessor;
        ImageEncoder = imageEncoder;
        TextEncoder = textEncoder;
        Dimension = dimension;
    }

    /// <summary>Model name: <c>model_name</c> in config.json, else the folder name (e.g. <c>ViT-B-32__openai</c>).</summary>
    public string Name { get; }

    /// <summary>Embedding length shared by both encoders.</summary>
    public int Dimension { get; }

    /// <summary>True for DbFirst's tiny colour toy model, whose embeddings are not semantic.</summary>
    public bool IsTestModel { get; }

    /// <summary>Where the model files were found.</summary>
    public ClipModelFiles Files { get; }

    /// <summary>Image file → CLIP input tensor.</summary>
    public ClipImagePreprocessor Preprocessor { get; }

    /// <summary>Preprocessed images → embeddings.</summary>
    public ClipImageEncoder ImageEncoder { get; }

    /// <summary>Text → embeddings.</summary>
    public ClipTextEncoder TextEncoder { get; }

    /// <summary>The tokenizer in use.</summary>
    public ClipTokenizer Tokenizer => TextEncoder.Tokenizer;

    /// <summary>
    /// Loads the model in <paramref name="directory"/> (Immich or Hugging Face layout).
    /// <paramref name="fallbackTokenizerDirectory"/> (a folder with vocab.json + merges.txt) is used only when the
    /// model folder has no tokenizer files; tests pass <c>../shared/clip</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The ONNX files or the tokenizer are missing.</exception>
    public static ClipModel Load(string directory, string? fallbackTokenizerDirectory = null, int? intraOpThreads = null)
    {
        var files = ClipModelFiles.Find(directory);
        var (name, isTestModel, configDimension) = ReadConfig(files);
        var tokenizer = LoadTokenizer(files, fallbackTokenizerDirectory);
        var preprocessConfig = ClipPreprocessConfig.Load(files.PreprocessConfig);

        ClipImageEncoder? image = null;
        ClipTextEncoder? text = null;
        try
        {
            image = new ClipImageEncoder(files.VisualModel, preprocessConfig.CropSize, intraOpThreads);
            text = new ClipTextEncoder(files.TextualModel, tokenizer, intraOpThreads);
            var dimension = image.Dimension > 0 ? image.Dimension : text.Dimension > 0 ? text.Dimension : configDimension
                ?? throw new InvalidOperationException($"{files.Directory}: the embedding dimension is neither in the models nor in config.json");
            if (image.Dimension > 0 && text.Dimension > 0 && image.Dimension != text.Dimension)
            {
                throw new InvalidOperationException(
                    $"{files.Directory}: image embeddings have {image.Dimension} dimensions but text embeddings {text.Dimension}");
            }

            if (image.ImageSize != preprocessConfig.CropSize)
            {
                preprocessConfig = preprocessConfig with { CropSize = image.ImageSize };
            }

            return new ClipModel(name, files, isTestModel, new ClipImagePreprocessor(preprocessConfig), image, text, dimension);
        }
        catch
        {
            image?.Dispose();
            text?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ImageEncoder.Dispose();
        TextEncoder.Dispose();
    }

    private static (string Name, bool IsTestModel, int? Dimension) ReadConfig(ClipModelFiles files)
    {
        var name = Path.GetFileName(files.Directory.TrimEnd(Path.DirectorySeparatorChar));
        if (files.ConfigJson is null)
        {
            return (name, false, null);
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(files.ConfigJson));
        var root = document.RootElement;
        if (root.TryGetProperty("model_name", out var modelName) && modelName.ValueKind == JsonValueKind.String)
        {
            name = modelName.GetString()!;
        }

        var isTest = root.TryGetProperty("dbfirst_test_model", out var marker) && marker.ValueKind == JsonValueKind.True;
        int? dimension = null;
        foreach (var key in new[] { "embed_dim", "projection_dim" })
        {
            if (root.TryGetProperty(key, out var d) && d.ValueKind == JsonValueKind.Number)
            {
                dimension = d.GetInt32();
                break;
            }
        }

        return (name, isTest, dimension);
    }

    private static ClipTokenizer LoadTokenizer(ClipModelFiles files, string? fallbackDirectory)
    {
        if (files.Vocab is not null && files.Merges is not null)
        {
            return ClipTokenizer.FromFiles(files.Vocab, files.Merges);
        }

        if (files.TokenizerJson is not null)
        {
            return ClipTokenizer.FromTokenizerJson(files.TokenizerJson);
        }

        if (fallbackDirectory is not null
            && File.Exists(Path.Combine(fallbackDirectory, "vocab.json")) && File.Exists(Path.Combine(fallbackDirectory, "merges.txt")))
        {
            return ClipTokenizer.FromFiles(Path.Combine(fallbackDirectory, "vocab.json"), Path.Combine(fallbackDirectory, "merges.txt"));
        }

        throw new FileNotFoundException($"{files.Directory}: no tokenizer (vocab.json + merges.txt or tokenizer.json) in the model folder");
    }
}
