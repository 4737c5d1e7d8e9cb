using DbFirst.Clip;
using DbFirst.Samples;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Samples;

public sealed class ColourSampleWriterTests
{
    [Fact]
    public async Task EveryColourImage_IsFoundFirstByItsColourWord_WithTheTestModel()
    {
        var folder = Directory.CreateTempSubdirectory("dbfirst-colours-").FullName;
        try
        {
            var paths = await ColourSampleWriter.WriteAsync(folder);
            using var model = ClipModel.Load(TestPaths.TinyClipModel);
            var images = model.ImageEncoder.Encode(paths.Select(model.Preprocessor.Preprocess).ToList());

            foreach (var colour in ColourSampleWriter.Colours.Keys)
            {
                var text = model.TextEncoder.Encode($"a {colour} photo");
                var best = Enumerable.Range(0, paths.Count).MaxBy(i => images[i].Zip(text, (a, b) => a * b).Sum());
                Assert.Equal($"{colour}.jpg", Path.GetFileName(paths[best]));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
