using Hangfire;
using Hangfire.PostgreSql;

namespace DbFirst.Runner.Hosting;

/// <summary>Hangfire's storage: Hangfire.PostgreSql in schema <c>hangfire</c> of the gallery database.</summary>
internal static class HangfireStorageFactory
{
    public const string Schema = "hangfire";

    /// <summary>
    /// The options every process uses, so servers, workers and the ingest command's enqueue agree. The sliding
    /// invisibility timeout keeps a long embedding run owned by its live server (it renews a heartbeat) while a dead
    /// server's job comes back within minutes instead of the fixed 30-minute default.
    /// </summary>
    public static PostgreSqlStorageOptions CreateOptions() => new()
    {
        SchemaName = Schema,
        PrepareSchemaIfNecessary = true,
        UseSlidingInvisibilityTimeout = true,
        QueuePollInterval = TimeSpan.FromSeconds(5),
    };

    public static PostgreSqlStorage Create(string connectionString) =>
        new(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, CreateOptions()), CreateOptions());

    /// <summary>Configures Hangfire (serializer, logging, storage) for the host.</summary>
    public static IGlobalConfiguration UseGalleryStorage(this IGlobalConfiguration configuration, string connectionString) =>
        configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), CreateOptions());
}
