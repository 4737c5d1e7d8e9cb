namespace DbFirst.Tests.Support;

/// <summary>Locates the repository root (the folder holding DbFirst.sln) and the shared folder beside it.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// The <c>../shared</c> folder beside the repository, or null where it is absent. In a git worktree the
    /// folder beside the main checkout counts too, since worktrees usually live elsewhere.
    /// </summary>
    public static string? SharedDirectory { get; } = FindShared();

    public static string SharedClip => Path.Combine(SharedDirectory ?? throw new InvalidOperationException("../shared is absent"), "clip");

    public static string TinyClipModel => Path.Combine(RepoRoot, "tests", "models", "tiny-clip");

    private static string? FindShared()
    {
        foreach (var root in new[] { RepoRoot, MainCheckoutOfWorktree(RepoRoot) })
        {
            if (root is null)
            {
                continue;
            }

            var shared = Path.GetFullPath(Path.Combine(root, "..", "shared"));
            if (Directory.Exists(Path.Combine(shared, "clip")))
            {
                return shared;
            }
        }

        return null;
    }

    private static string? MainCheckoutOfWorktree(string root)
    {
        // A worktree's .git is a file: "gitdir: <main>/.git/worktrees/<name>".
        var gitFile = Path.Combine(root, ".git");
        if (!File.Exists(gitFile))
        {
            return null;
        }

        var line = File.ReadAllText(gitFile).Trim();
        const string prefix = "gitdir:";
        if (!line.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var gitDir = new DirectoryInfo(Path.GetFullPath(line[prefix.Length..].Trim(), root));
        return gitDir.Parent?.Parent?.Parent?.FullName;
    }

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
