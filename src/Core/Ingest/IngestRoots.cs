namespace DbFirst.Ingest;

/// <summary>Turns the folders named on the command line into absolute, distinct roots, none inside another.</summary>
internal static class IngestRoots
{
    public static IReadOnlyList<string> Normalise(IEnumerable<string> roots)
    {
        var full = new List<string>();
        foreach (var root in roots)
        {
            var path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
            if (!Directory.Exists(path) && !File.Exists(path))
            {
                // Refuse rather than carry on: an absent root would make every row under it look vanished.
                throw new GalleryException($"no such file or directory: {root}");
            }

            full.Add(path);
        }

        if (full.Count == 0)
        {
            throw new GalleryException("name at least one folder to ingest");
        }

        // A root inside another would be walked twice; the outer one covers it.
        full.Sort(StringComparer.Ordinal);
        var distinct = new List<string>();
        foreach (var path in full)
        {
            if (!distinct.Any(outer => path == outer || path.StartsWith(AsPrefix(outer), StringComparison.Ordinal)))
            {
                distinct.Add(path);
            }
        }

        return distinct;
    }

    /// <summary>The string every path below <paramref name="directory"/> starts with.</summary>
    public static string AsPrefix(string directory) =>
        Path.EndsInDirectorySeparator(directory) ? directory : directory + Path.DirectorySeparatorChar;
}
