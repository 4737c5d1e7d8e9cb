namespace DbFirst.Tests.Support;

/// <summary>Locates the repository root (the folder holding DbFirst.sln) and the test assets inside it.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// CLIP's vocabulary and the reference tokenizer and preprocessing cases, copied into the repository
    /// (provenance in the README beside them) so that a fresh clone runs every test.
    /// </summary>
    public static string ClipFixtures => Path.Combine(RepoRoot, "tests", "fixtures", "clip");

    public static string TinyClipModel => Path.Combine(RepoRoot, "models", "tiny-clip");

    /// <summary>tiny-clip seen through a fixed random projection to 384-d, colour words rotated by one: a second model that disagrees.</summary>
    public static string TinyClip384Model => Path.Combine(RepoRoot, "tests", "models", "tiny-clip-384");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DbFirst.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("DbFirst.sln not found above " + AppContext.BaseDirectory);
    }
}
