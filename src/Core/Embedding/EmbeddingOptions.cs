using DbFirst.Configuration;
using DbFirst.Files;

namespace DbFirst.Embedding;

/// <summary>How the embedding pipeline batches, retries and overlaps its work (configuration section <c>Embedding</c>).</summary>
internal sealed record EmbeddingOptions
{
    private const int MaxBatchSize = 10_000;

    /// <summary>Rows claimed, preprocessed, encoded and committed together.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>
    /// No longer limits retries (a transient failure is retried with back-off for as long as it lasts); kept so
    /// existing configuration still parses.
    /// </summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How long a row waits after its first transient failure; each further failure doubles it.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait between two attempts, however often a row failed.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How image files are re-opened (size cap, read timeout, hash check).</summary>
    public FileReadOptions Files { get; init; } = new();

    /// <summary>Threads decoding and preprocessing images at once.</summary>
    public int PreprocessParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Batches claimed but not yet committed by one pipeline (each holds a connection and its rows' locks):
    /// one preprocessing, one on the encoder, one being written.
    /// </summary>
    public int MaxBatchesInFlight { get; init; } = 3;

    /// <summary>
    /// A claim transaction idle for longer than this is ended by PostgreSQL, which releases its rows: the
    /// safety net for a worker that hangs without its connection closing (a frozen VM, a stopped process).
    /// </summary>
    public TimeSpan ClaimIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Reads the <c>Embedding:*</c> keys (e.g. <c>Embedding__BatchSize</c>) and the <c>Files:*</c> keys.</summary>
    public static EmbeddingOptions Read(SettingsReader settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var defaults = new EmbeddingOptions();
        return new EmbeddingOptions
        {
            BatchSize = settings.Int("Embedding:BatchSize", defaults.BatchSize, max: MaxBatchSize),
            MaxAttempts = settings.Int("Embedding:MaxAttempts", defaults.MaxAttempts),
            RetryDelay = settings.Time("Embedding:RetryDelay", defaults.RetryDelay),
            MaxRetryDelay = settings.Time("Embedding:MaxRetryDelay", defaults.MaxRetryDelay),
            Files = FileReadOptions.Read(settings),
            PreprocessParallelism = settings.Int("Embedding:PreprocessParallelism", defaults.PreprocessParallelism),
            MaxBatchesInFlight = settings.Int("Embedding:MaxBatchesInFlight", defaults.MaxBatchesInFlight),
            ClaimIdleTimeout = settings.Time("Embedding:ClaimIdleTimeout", defaults.ClaimIdleTimeout),
        }.Validate();
    }

    /// <summary>Throws when a value makes no sense, naming the configuration key.</summary>
    public EmbeddingOptions Validate()
    {
        if (BatchSize is < 1 or > MaxBatchSize)
        {
            throw new GalleryException($"Embedding:BatchSize must be between 1 and {MaxBatchSize}, not {BatchSize}");
        }

        if (MaxAttempts < 1)
        {
            throw new GalleryException($"Embedding:MaxAttempts must be at least 1, not {MaxAttempts}");
        }

        if (RetryDelay < TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            throw SettingsReader.Conflict("Embedding:RetryDelay must not be negative, nor over Embedding:MaxRetryDelay");
        }

        Files.Validate();

        if (PreprocessParallelism < 1 || MaxBatchesInFlight < 1)
        {
            throw new GalleryException("Embedding:PreprocessParallelism and Embedding:MaxBatchesInFlight must be at least 1");
        }

        return this;
    }
}
