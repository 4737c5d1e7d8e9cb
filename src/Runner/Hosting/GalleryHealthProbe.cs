using DbFirst.Clip;
using DbFirst.Database;

namespace DbFirst.Runner.Hosting;

/// <summary>Answers <c>/health</c>: can the database be reached, are its migrations current, which model is loaded.</summary>
internal sealed class GalleryHealthProbe
{
    private readonly string _connectionString;
    private readonly ClipModel _model;

    public GalleryHealthProbe(string connectionString, ClipModel model)
    {
        _connectionString = connectionString;
        _model = model;
    }

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var model = new ModelHealth(_model.Name, _model.Dimension, _model.IsTestModel);
        try
        {
            var migrations = await new GalleryMigrator(_connectionString).ListAsync(cancellationToken);
            var pending = migrations.Where(m => !m.IsApplied).Select(m => m.Version).ToList();
            var database = new DatabaseHealth(
                Reachable: true,
                SchemaVersion: migrations.Where(m => m.IsApplied).Select(m => m.Version).DefaultIfEmpty(0).Max(),
                MigrationsCurrent: pending.Count == 0,
                PendingMigrations: pending,
                Error: null);
            return new HealthReport(pending.Count == 0 ? "ok" : "degraded", database, model);
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            // The reason is shown, never the connection string: /health is public.
            var reason = exception is Npgsql.PostgresException postgres ? postgres.MessageText : exception.InnerException?.Message ?? exception.Message;
            return new HealthReport("unhealthy", new DatabaseHealth(false, null, false, [], reason), model);
        }
    }

    /// <summary>The JSON body of <c>/health</c>.</summary>
    internal sealed record HealthReport(string Status, DatabaseHealth Database, ModelHealth Model);

    internal sealed record DatabaseHealth(bool Reachable, long? SchemaVersion, bool MigrationsCurrent, IReadOnlyList<long> PendingMigrations, string? Error);

    internal sealed record ModelHealth(string Name, int Dimension, bool TestModel);
}
