using DbFirst.Configuration;

namespace DbFirst.Files;

/// <summary>Limits on re-reading an ingested file (configuration section <c>Files</c>).</summary>
internal sealed record FileReadOptions
{
    /// <summary>Largest file read: generous for a 100 MP photo (a 16-bit PNG of one is about 200 MB).</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How long one read may take before the row gets a transient error (a hung network mount).</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether the content hash is checked against the one recorded at ingest (costs one SHA-256 pass).</summary>
    public bool VerifyHash { get; init; } = true;

    /// <summary>Reads the <c>Files:*</c> keys (e.g. <c>Files__MaxBytes</c>).</summary>
    public static FileReadOptions Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var defaults = new FileReadOptions();
        return new FileReadOptions
        {
            MaxBytes = settings.Long("Files:MaxBytes", defaults.MaxBytes),
            ReadTimeout = settings.Time("Files:ReadTimeout", defaults.ReadTimeout, positive: true),
            VerifyHash = settings.Bool("Files:VerifyHash", defaults.VerifyHash),
        };
    }

    /// <summary>Throws when a value makes no sense, naming the configuration key.</summary>
    public FileReadOptions Validate()
    {
        if (MaxBytes < 1)
        {
            throw new GalleryException($"Files:MaxBytes must be at least 1, not {MaxBytes}");
        }

        if (ReadTimeout <= TimeSpan.Zero)
        {
            throw new GalleryException("Files:ReadTimeout must be positive");
        }

        return this;
    }
}
