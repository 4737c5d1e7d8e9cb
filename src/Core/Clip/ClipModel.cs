using System.Text.Json;

namespace DbFirst.Clip;

/// <summary>
/// A loaded CLIP model: preprocessing, tokenizer, image and text encoders, all safe to share between threads.
/// </summary>
internal sealed class ClipModel : IDisposable
{
    private readonly Lazy<ClipImageEncoder> _imageEncoder;
    private readonly Lazy<ClipTextEncoder> _textEncoder;
    private readonly Lazy<ClipImagePreprocessor> _preprocessor;

    // Each tower loads on first use: a worker that only embeds images never holds the text tower's weights
    // (about a third of ViT-B/32's memory), and a search host never holds the image tower's.
    private ClipModel(string name, ClipModelFiles files, bool isSemantic, ClipTokenizer tokenizer,
        ClipPreprocessConfig preprocessConfig, int dimension, int? intraOpThreads)
    {
        Name = name;
        Files = files;
        IsSemantic = isSemantic;
        Tokenizer = tokenizer;
        Dimension = dimension;
        _imageEncoder = new Lazy<ClipImageEncoder>(
            () => CheckDimension(new ClipImageEncoder(files.VisualModel, preprocessConfig.CropSize, intraOpThreads), e => e.Dimension, "image"),
            LazyThreadSafetyMode.ExecutionAndPublication);
        _textEncoder = new Lazy<ClipTextEncoder>(
            () => CheckDimension(new ClipTextEncoder(files.TextualModel, tokenizer, intraOpThreads), e => e.Dimension, "text"),
            LazyThreadSafetyMode.ExecutionAndPublication);
        _preprocessor = new Lazy<ClipImagePreprocessor>(
            () => new ClipImagePreprocessor(ImageEncoder.ImageSize == preprocessConfig.CropSize
                ? preprocessConfig
                : preprocessConfig with { CropSize = ImageEncoder.ImageSize }),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Model name: <c>model_name</c> in config.json, else the folder name (e.g. <c>ViT-B-32__openai</c>).</summary>
    public string Name { get; }

    /// <summary>Embedding length shared by both encoders.</summary>
    public int Dimension { get; }

    /// <summary>
    /// False when the model's config.json says <c>"dbfirst_semantic": false</c>, as the offline model's does (a colour
    /// toy): its embeddings find colours, not meaning, and every surface that names the model says so.
    /// </summary>
    public bool IsSemantic { get; }

    /// <summary>Where the model files were found.</summary>
    public ClipModelFiles Files { get; }

    /// <summary>Image file → CLIP input tensor.</summary>
    public ClipImagePreprocessor Preprocessor => _preprocessor.Value;

    /// <summary>Preprocessed images → embeddings.</summary>
    public ClipImageEncoder ImageEncoder => _imageEncoder.Value;

    /// <summary>Text → embeddings.</summary>
    public ClipTextEncoder TextEncoder => _textEncoder.Value;

    /// <summary>The tokenizer in use.</summary>
    public ClipTokenizer Tokenizer { get; }

    /// <summary>
    /// Loads the model in <paramref name="directory"/> (Immich or Hugging Face layout).
    /// <paramref name="fallbackTokenizerDirectory"/> (a folder with vocab.json + merges.txt) is used only when the
    /// model folder has no tokenizer files; tests pass <c>tests/fixtures/clip</c>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The ONNX files or the tokenizer are missing.</exception>
    public static ClipModel Load(string directory, string? fallbackTokenizerDirectory = null, int? intraOpThreads = null)
    {
        var files = ClipModelFiles.Find(directory);
        var (name, isSemantic, configDimension) = ReadConfig(files);
        var tokenizer = LoadTokenizer(files, fallbackTokenizerDirectory);
        var preprocessConfig = ClipPreprocessConfig.Load(files.PreprocessConfig);

        var dimension = configDimension ?? ReadDimension(files, preprocessConfig, tokenizer, intraOpThreads);
        return new ClipModel(name, files, isSemantic, tokenizer, preprocessConfig, dimension, intraOpThreads);
    }

    public void Dispose()
    {
        if (_imageEncoder.IsValueCreated)
        {
            _imageEncoder.Value.Dispose();
        }

        if (_textEncoder.IsValueCreated)
        {
            _textEncoder.Value.Dispose();
        }
    }

    // Without a dimension in config.json, the image tower's output shape says it.
    private static int ReadDimension(ClipModelFiles files, ClipPreprocessConfig preprocessConfig, ClipTokenizer tokenizer, int? intraOpThreads)
    {
        using var image = new ClipImageEncoder(files.VisualModel, preprocessConfig.CropSize, intraOpThreads);
        if (image.Dimension > 0)
        {
            return image.Dimension;
        }

        using var text = new ClipTextEncoder(files.TextualModel, tokenizer, intraOpThreads);
        return text.Dimension > 0
            ? text.Dimension
            : throw new InvalidOperationException($"{files.Directory}: the embedding dimension is neither in the models nor in config.json");
    }

    private T CheckDimension<T>(T encoder, Func<T, int> dimensionOf, string tower) where T : IDisposable
    {
        var dimension = dimensionOf(encoder);
        if (dimension > 0 && dimension != Dimension)
        {
            encoder.Dispose();
            throw new InvalidOperationException($"{Files.Directory}: {tower} embeddings have {dimension} dimensions, expected {Dimension}");
        }

        return encoder;
    }

    private static (string Name, bool IsSemantic, int? Dimension) ReadConfig(ClipModelFiles files)
    {
        var name = Path.GetFileName(files.Directory.TrimEnd(Path.DirectorySeparatorChar));
        if (files.ConfigJson is null)
        {
            return (name, true, null);
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(files.ConfigJson));
        var root = document.RootElement;
        if (root.TryGetProperty("model_name", out var modelName) && modelName.ValueKind == JsonValueKind.String)
        {
            name = modelName.GetString()!;
        }

        var isSemantic = !root.TryGetProperty("dbfirst_semantic", out var marker) || marker.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{files.ConfigJson}: dbfirst_semantic must be true or false"),
        };
        int? dimension = null;
        foreach (var key in new[] { "embed_dim", "projection_dim" })
        {
            if (root.TryGetProperty(key, out var d) && d.ValueKind == JsonValueKind.Number)
            {
                dimension = d.GetInt32();
                break;
            }
        }

        return (name, isSemantic, dimension);
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
