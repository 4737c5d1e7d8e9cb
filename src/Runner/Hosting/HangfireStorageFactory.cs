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
    /// server's job comes back within minutes instead of the fixed 30-minute default. With long polling each enqueue
    /// also sends a NOTIFY, which wakes the idle workers of every process listening on the database.
    /// </summary>
    /// <param name="polling">The servers' polling; an enqueuing client uses the default, which sends the NOTIFY.</param>
    public static PostgreSqlStorageOptions CreateOptions(HangfirePolling? polling = null)
    {
        polling ??= HangfirePolling.Default;
        return new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = true,
            UseSlidingInvisibilityTimeout = true,
            QueuePollInterval = polling.QueuePollInterval,
            EnableLongPolling = polling.LongPolling,
        };
    }

    /// <summary>Storage for a client that only enqueues (it polls nothing).</summary>
    public static PostgreSqlStorage Create(string connectionString) =>
        new(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, CreateOptions()), CreateOptions());

    /// <summary>Configures Hangfire (serializer, logging, storage) for the host, polling as <paramref name="polling"/> says (the default when null).</summary>
    public static IGlobalConfiguration UseGalleryStorage(this IGlobalConfiguration configuration, string connectionString, HangfirePolling? polling = null) =>
        configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), CreateOptions(polling));
}
