using System.Globalization;
using DbFirst.Embedding;
using DbFirst.Files;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Runner.Hosting;

/// <summary>Reads <see cref="EmbeddingOptions"/> from configuration section <c>Embedding</c> (e.g. <c>Embedding__BatchSize</c>).</summary>
internal static class EmbeddingSettings
{
    public static EmbeddingOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Embedding");
        var defaults = new EmbeddingOptions();
        return new EmbeddingOptions
        {
            BatchSize = Int(section, nameof(EmbeddingOptions.BatchSize), defaults.BatchSize),
            MaxAttempts = Int(section, nameof(EmbeddingOptions.MaxAttempts), defaults.MaxAttempts),
            RetryDelay = Time(section, nameof(EmbeddingOptions.RetryDelay), defaults.RetryDelay),
            MaxRetryDelay = Time(section, nameof(EmbeddingOptions.MaxRetryDelay), defaults.MaxRetryDelay),
            Files = FileSettings.Read(configuration),
            PreprocessParallelism = Int(section, nameof(EmbeddingOptions.PreprocessParallelism), defaults.PreprocessParallelism),
            MaxBatchesInFlight = Int(section, nameof(EmbeddingOptions.MaxBatchesInFlight), defaults.MaxBatchesInFlight),
            ClaimIdleTimeout = Time(section, nameof(EmbeddingOptions.ClaimIdleTimeout), defaults.ClaimIdleTimeout),
        }.Validate();
    }

    private static int Int(IConfigurationSection section, string key, int fallback) =>
        section[key] is not { Length: > 0 } text ? fallback
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new GalleryException($"Embedding:{key} must be a whole number, not '{text}'");

    private static TimeSpan Time(IConfigurationSection section, string key, TimeSpan fallback) =>
        section[key] is not { Length: > 0 } text ? fallback
        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value
        : throw new GalleryException($"Embedding:{key} must be a time span such as 00:01:00, not '{text}'");
}
