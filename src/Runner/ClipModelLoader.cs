using System.CommandLine;
using DbFirst.Clip;
using DbFirst.Imaging;

namespace DbFirst.Runner;

/// <summary>Resolves and loads the CLIP model for a command, turning the failures a user can fix into <see cref="GalleryException"/>.</summary>
internal static class ClipModelLoader
{
    public static ClipModel Load(RunnerContext context, ParseResult parseResult, GlobalOptions options)
    {
        var location = ClipModelLocator.Resolve(
            parseResult.GetValue(options.Model),
            context.Configuration[ClipModelLocator.ConfigurationKey],
            Directory.GetCurrentDirectory(),
            AppContext.BaseDirectory);
        ClipModel model;
        try
        {
            model = ClipModel.Load(location.Directory);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidDataException)
        {
            throw new GalleryException($"{e.Message} (from {Describe(location.Source)}; scripts/fetch-model.sh downloads ViT-B/32)", e);
        }

        if (location.IsFallback)
        {
            context.Console.Error.WriteLine(ClipModelLocation.FallbackWarning);
        }
        else if (!model.IsSemantic)
        {
            context.Console.Error.WriteLine($"warning: {TerminalText.Escape(model.Name)} is the tiny test model; its results are NOT semantic.");
        }

        return model;
    }

    /// <summary>Fails with one clear line when <paramref name="path"/> is not a readable file.</summary>
    public static string RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new GalleryException($"file not found: {path}");
        }

        return path;
    }

    /// <summary>Preprocesses an image, turning decode and read failures into <see cref="GalleryException"/>.</summary>
    public static float[] Preprocess(ClipModel model, string path)
    {
        try
        {
            return model.Preprocessor.Preprocess(path);
        }
        catch (ImageDecodeException e)
        {
            throw new GalleryException($"cannot read image {e.Path}: {e.Reason}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GalleryException($"cannot read {path}: {e.Message}", e);
        }
    }

    private static string Describe(ClipModelSource source) => source switch
    {
        ClipModelSource.CommandLine => "--model",
        ClipModelSource.Configuration => "Clip__ModelPath",
        ClipModelSource.Repository => ClipModelLocator.RepositoryModelFolder,
        _ => "the offline model",
    };
}
