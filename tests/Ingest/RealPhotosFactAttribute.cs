namespace DbFirst.Tests.Ingest;

/// <summary>
/// A test over the sample photos of Debian's python3-skimage package: <c>DBFIRST_SKIMAGE_DATA</c>, else what
/// <c>scripts/sample-photos.sh</c> gathered into <c>data/samples/photos</c> (CI runs it), else
/// <c>/tmp/skimage/usr/lib/python3/dist-packages/skimage/data</c>; skipped when none has them.
/// </summary>
public sealed class RealPhotosFactAttribute : FactAttribute
{
    public static readonly string Folder = FindFolder();

    public RealPhotosFactAttribute()
    {
        if (!File.Exists(Path.Combine(Folder, "chelsea.png")))
        {
            Skip = $"no skimage sample photos at {Folder} (run scripts/sample-photos.sh)";
        }
    }

    private static string FindFolder()
    {
        if (Environment.GetEnvironmentVariable("DBFIRST_SKIMAGE_DATA") is { Length: > 0 } configured)
        {
            return configured;
        }

        var gathered = Path.Combine(DbFirst.Tests.Support.TestPaths.RepoRoot, "data", "samples", "photos");
        return File.Exists(Path.Combine(gathered, "chelsea.png")) ? gathered : "/tmp/skimage/usr/lib/python3/dist-packages/skimage/data";
    }
}
