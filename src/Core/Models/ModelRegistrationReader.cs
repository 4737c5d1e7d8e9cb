using DbFirst.Clip;
using Microsoft.ML.OnnxRuntime;

namespace DbFirst.Models;

/// <summary>
/// Reads a CLIP model folder (Immich or Hugging Face layout, found by <see cref="ClipModelFiles"/>) into the
/// <see cref="ModelRegistration"/> the registry stores, and checks that a worker's loaded model is the one registered.
/// </summary>
internal static class ModelRegistrationReader
{
    /// <summary>
    /// Loads both towers of the model in <paramref name="directory"/> and returns its registration. Both are loaded
    /// because a model registered with one broken tower would only fail later, in a worker or in <c>serve</c>.
    /// </summary>
    /// <exception cref="GalleryException">The folder, its files or its tokenizer are missing, or the towers disagree.</exception>
    public static ModelRegistration Read(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        try
        {
            using var model = ClipModel.Load(directory);
            _ = model.ImageEncoder.Dimension;
            _ = model.TextEncoder.Dimension;
            return new ModelRegistration(model.Name, model.Dimension, model.Files.Directory, model.Files.Layout);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidOperationException or OnnxRuntimeException)
        {
            throw new GalleryException($"cannot register the model in {Path.GetFullPath(directory)}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Fails with one line when the model a process loaded (its folder from the registry or a per-worker override)
    /// is not the registered one: embeddings of another model or dimension would be stored under the wrong name.
    /// </summary>
    /// <exception cref="GalleryException">The name or the dimension differ.</exception>
    public static void RequireMatch(ClipModel loaded, string registeredName, int registeredDimension)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        if (loaded.Name != registeredName || loaded.Dimension != registeredDimension)
        {
            throw new GalleryException(
                $"the model in {loaded.Files.Directory} is {loaded.Name} ({loaded.Dimension}-d), but the registry expects {registeredName} ({registeredDimension}-d); point --model or Clip__ModelPath at {registeredName}'s files");
        }
    }
}
