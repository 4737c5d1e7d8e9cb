namespace DbFirst.Tests.Ingest;

/// <summary>
/// A test over the sample photos of Debian's python3-skimage package, extracted to
/// <c>DBFIRST_SKIMAGE_DATA</c> (default: <c>/tmp/skimage/usr/lib/python3/dist-packages/skimage/data</c>); skipped when absent.
/// </summary>
public sealed class RealPhotosFactAttribute : FactAttribute
{
    public static readonly string Folder =
        Environment.GetEnvironmentVariable("DBFIRST_SKIMAGE_DATA") ?? "/tmp/skimage/usr/lib/python3/dist-packages/skimage/data";

    public RealPhotosFactAttribute()
    {
        if (!File.Exists(Path.Combine(Folder, "chelsea.png")))
        {
            Skip = $"no skimage sample photos at {Folder} (apt-get download python3-skimage && dpkg -x it to /tmp/skimage)";
        }
    }
}
