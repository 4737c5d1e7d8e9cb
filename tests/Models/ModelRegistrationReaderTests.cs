using DbFirst.Clip;
using DbFirst.Models;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Models;

public sealed class ModelRegistrationReaderTests
{
    private static readonly (string Word, SKColor Colour)[] Colours =
    [
        ("red", new SKColor(230, 20, 20)), ("green", new SKColor(20, 170, 40)), ("blue", new SKColor(20, 30, 230)),
        ("yellow", new SKColor(240, 230, 30)), ("white", new SKColor(250, 250, 250)), ("black", new SKColor(5, 5, 5)),
        ("orange", new SKColor(250, 130, 10)), ("purple", new SKColor(130, 20, 140)),
    ];

    [Fact]
    public void Read_ImmichLayout_ReturnsNameDimensionFolderAndLayout()
    {
        var registration = ModelRegistrationReader.Read(TestPaths.TinyClip384Model);

        Assert.Equal(new ModelRegistration("tiny-clip-test-384", 384, TestPaths.TinyClip384Model, "immich"), registration);
    }

    [Fact]
    public void Read_HuggingFaceLayout_TakesTheDimensionFromTheTowers()
    {
        var dir = Directory.CreateTempSubdirectory("dbfirst-hf-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "onnx"));
            File.Copy(Path.Combine(TestPaths.TinyClip384Model, "visual", "model.onnx"), Path.Combine(dir.FullName, "onnx", "vision_model.onnx"));
            File.Copy(Path.Combine(TestPaths.TinyClip384Model, "textual", "model.onnx"), Path.Combine(dir.FullName, "onnx", "text_model.onnx"));
            File.Copy(Path.Combine(TestPaths.TinyClip384Model, "textual", "vocab.json"), Path.Combine(dir.FullName, "vocab.json"));
            File.Copy(Path.Combine(TestPaths.TinyClip384Model, "textual", "merges.txt"), Path.Combine(dir.FullName, "merges.txt"));

            var registration = ModelRegistrationReader.Read(dir.FullName);

            Assert.Equal(new ModelRegistration(dir.Name, 384, dir.FullName, "huggingface"), registration);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Read_FolderWithoutModel_FailsWithOneLineNamingTheFolder()
    {
        var dir = Directory.CreateTempSubdirectory("dbfirst-empty-");
        try
        {
            var error = Assert.Throws<GalleryException>(() => ModelRegistrationReader.Read(dir.FullName));

            Assert.StartsWith($"cannot register the model in {dir.FullName}: No CLIP model in", error.Message);
            Assert.DoesNotContain('\n', error.Message);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void RequireMatch_OtherModelLoaded_FailsNamingBoth()
    {
        using var model = ClipModel.Load(TestPaths.TinyClipModel);

        ModelRegistrationReader.RequireMatch(model, "tiny-clip-test", 512);
        var error = Assert.Throws<GalleryException>(() => ModelRegistrationReader.RequireMatch(model, "tiny-clip-test-384", 384));

        Assert.Contains("is tiny-clip-test (512-d), but the registry expects tiny-clip-test-384 (384-d)", error.Message);
    }

    [Fact]
    public void TinyClip384_DisagreesWithTinyClip_EachColourWordFindsTheNextColour()
    {
        using var model = ClipModel.Load(TestPaths.TinyClip384Model);
        var images = model.ImageEncoder.Encode(Colours.Select(c =>
        {
            using var bitmap = new SKBitmap(new SKImageInfo(64, 48, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            bitmap.Erase(c.Colour);
            return model.Preprocessor.Preprocess(bitmap);
        }).ToList());

        for (var i = 0; i < Colours.Length; i++)
        {
            var query = model.TextEncoder.Encode($"a {Colours[i].Word} photo");
            var best = Enumerable.Range(0, images.Length).MaxBy(j => query.Zip(images[j], (a, b) => a * b).Sum());
            Assert.Equal(384, query.Length);
            Assert.Equal(Colours[(i + 1) % Colours.Length].Word, Colours[best].Word);
        }
    }
}
