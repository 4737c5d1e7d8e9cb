using DbFirst.Clip;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Clip;

public sealed class ClipModelTests : IDisposable
{
    private static readonly (string Word, SKColor Colour)[] Colours =
    [
        ("red", new SKColor(230, 20, 20)), ("green", new SKColor(20, 170, 40)), ("blue", new SKColor(20, 30, 230)),
        ("yellow", new SKColor(240, 230, 30)), ("white", new SKColor(250, 250, 250)), ("black", new SKColor(5, 5, 5)),
        ("orange", new SKColor(250, 130, 10)), ("purple", new SKColor(130, 20, 140)),
    ];

    private readonly ClipModel _model = ClipModel.Load(TestPaths.TinyClipModel);

    public void Dispose() => _model.Dispose();

    [Fact]
    public void Load_TinyModel_ReadsNameDimensionAndMarker()
    {
        Assert.Equal("tiny-clip-test", _model.Name);
        Assert.Equal(512, _model.Dimension);
        Assert.False(_model.IsSemantic);
        Assert.Equal("immich", _model.Files.Layout);
        Assert.True(_model.TextEncoder.HasDynamicLength);
    }

    [Fact]
    public void Encode_ImagesAndTexts_GiveUnitVectors()
    {
        using var bitmap = SolidBitmap(Colours[0].Colour);
        var image = _model.ImageEncoder.Encode([_model.Preprocessor.Preprocess(bitmap)]);
        var texts = _model.TextEncoder.Encode(["a red photo", "", "something else entirely"]);

        foreach (var vector in image.Concat(texts))
        {
            Assert.Equal(512, vector.Length);
            Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 4);
        }
    }

    [Fact]
    public void Search_ColourWords_RankTheMatchingImageFirst()
    {
        var pixels = Colours.Select(c =>
        {
            using var bitmap = SolidBitmap(c.Colour);
            return _model.Preprocessor.Preprocess(bitmap);
        }).ToList();
        var images = _model.ImageEncoder.Encode(pixels);

        foreach (var (word, _) in Colours)
        {
            var query = _model.TextEncoder.Encode($"a {word} photo");
            var best = Enumerable.Range(0, images.Length).MaxBy(i => Dot(query, images[i]));
            Assert.Equal(word, Colours[best].Word);
        }
    }

    [Fact]
    public void EncodeTokens_TrimmedToEndToken_EqualsFullContext()
    {
        var ids = new[] { "a red photo", "purple", "a photo of a dog and a cat on a green car" }.Select(_model.Tokenizer.Encode).ToList();

        var trimmed = _model.TextEncoder.EncodeTokens(ids, trimToEndToken: true);
        var full = _model.TextEncoder.EncodeTokens(ids, trimToEndToken: false);

        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Equal(full[i], trimmed[i], (a, b) => Math.Abs(a - b) < 1e-6f);
        }
    }

    [Fact]
    public void Encode_BatchOf16_MatchesOneByOne()
    {
        var pixels = Enumerable.Range(0, 16).Select(i =>
        {
            using var bitmap = SolidBitmap(new SKColor((byte)(i * 15), (byte)(255 - i * 10), (byte)(i * 7)));
            return _model.Preprocessor.Preprocess(bitmap);
        }).ToList();

        var batched = _model.ImageEncoder.Encode(pixels);

        Assert.Equal(_model.ImageEncoder.Encode(pixels[5]), batched[5], (a, b) => Math.Abs(a - b) < 1e-5f);
    }

    [Fact]
    public void Load_MissingFolder_ThrowsDirectoryNotFound()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => ClipModel.Load("/nonexistent/dbfirst-model"));

        Assert.Contains("/nonexistent/dbfirst-model", error.Message);
    }

    [Fact]
    public void Load_SemanticMarkerNotABoolean_ThrowsNamingTheKey()
    {
        var dir = Directory.CreateTempSubdirectory("dbfirst-marker-");
        try
        {
            foreach (var file in Directory.EnumerateFiles(TestPaths.TinyClipModel, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(dir.FullName, Path.GetRelativePath(TestPaths.TinyClipModel, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var config = Path.Combine(dir.FullName, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"dbfirst_semantic\": false", "\"dbfirst_semantic\": \"no\"", StringComparison.Ordinal));

            var error = Assert.Throws<InvalidDataException>(() => ClipModel.Load(dir.FullName));

            Assert.Equal($"{config}: dbfirst_semantic must be true or false", error.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_HuggingFaceLayoutWithoutTokenizer_UsesFallbackTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("dbfirst-hf-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "onnx"));
            File.Copy(Path.Combine(TestPaths.TinyClipModel, "visual", "model.onnx"), Path.Combine(dir.FullName, "onnx", "vision_model.onnx"));
            File.Copy(Path.Combine(TestPaths.TinyClipModel, "textual", "model.onnx"), Path.Combine(dir.FullName, "onnx", "text_model.onnx"));

            using var model = ClipModel.Load(dir.FullName, fallbackTokenizerDirectory: TestPaths.ClipFixtures);

            Assert.Equal("huggingface", model.Files.Layout);
            Assert.Equal(dir.Name, model.Name);
            Assert.True(model.IsSemantic);
            Assert.Equal(512, model.TextEncoder.Encode("a red photo").Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    private static SKBitmap SolidBitmap(SKColor colour)
    {
        var bitmap = new SKBitmap(new SKImageInfo(320, 240, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(colour);
        return bitmap;
    }
}
