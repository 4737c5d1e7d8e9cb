namespace DbFirst.Clip;

/// <summary>
/// Chooses the CLIP model folder: <c>--model DIR</c>, then configuration <c>Clip:ModelPath</c>, then
/// <c>models/ViT-B-32__openai</c> in the repository checkout, then the offline model beside the program.
/// </summary>
internal static class ClipModelLocator
{
    /// <summary>Configuration key of the model folder (environment variable <c>Clip__ModelPath</c>).</summary>
    public const string ConfigurationKey = "Clip:ModelPath";

    /// <summary>Folder, relative to the repository root, that scripts/fetch-model.sh fills.</summary>
    public const string RepositoryModelFolder = "models/ViT-B-32__openai";

    /// <summary>Folder, relative to the program (and to the repository root, where it ships), holding the offline model.</summary>
    public const string OfflineModelFolder = "models/tiny-clip";

    /// <summary>
    /// Resolves the model folder. <paramref name="searchStart"/> is where to look upwards for the repository
    /// (the folder holding DbFirst.sln); <paramref name="programDirectory"/> holds the bundled model.
    /// </summary>
    public static ClipModelLocation Resolve(string? commandLine, string? configured, string searchStart, string programDirectory)
    {
        if (!string.IsNullOrWhiteSpace(commandLine))
        {
            return new ClipModelLocation(Path.GetFullPath(commandLine), ClipModelSource.CommandLine);
        }

        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new ClipModelLocation(Path.GetFullPath(configured), ClipModelSource.Configuration);
        }

        for (var dir = new DirectoryInfo(searchStart); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DbFirst.sln")))
            {
                var candidate = Path.Combine(dir.FullName, RepositoryModelFolder);
                if (Directory.Exists(candidate))
                {
                    return new ClipModelLocation(candidate, ClipModelSource.Repository);
                }

                break;
            }
        }

        return new ClipModelLocation(Path.Combine(programDirectory, OfflineModelFolder), ClipModelSource.OfflineModel);
    }
}
