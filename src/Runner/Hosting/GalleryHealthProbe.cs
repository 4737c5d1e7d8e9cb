using System.Net.Sockets;
using DbFirst.Clip;
using DbFirst.Database;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Answers <c>/health</c>: has serve finished starting, can the database be reached, are its migrations current,
/// which pgvector and which model. A problem is a stable code and a hint; the driver's own text goes to serve's log
/// only, since <c>/health</c> is unauthenticated and that text can name hosts, users and databases.
/// </summary>
internal sealed class GalleryHealthProbe
{
    private readonly string _connectionString;
    private readonly ClipModel _model;
    private readonly ServeReadiness _readiness;
    private readonly ILogger _logger;
    private string? _lastLoggedCode;

    public GalleryHealthProbe(string connectionString, ClipModel model, ServeReadiness readiness, ILogger<GalleryHealthProbe>? logger = null)
    {
        _connectionString = connectionString;
        _model = model;
        _readiness = readiness;
        _logger = logger ?? NullLogger<GalleryHealthProbe>.Instance;
    }

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        var model = new ModelHealth(_model.Name, _model.Dimension, TestModel: !_model.IsSemantic);
        if (_readiness.Problem == HealthProblem.Starting)
        {
            return Report(HealthProblem.Starting, null, null, model);
        }

        try
        {
            PgvectorVersion pgvector;
            await using (var connection = new NpgsqlConnection(_connectionString))
            {
                await connection.OpenAsync(cancellationToken);
                pgvector = await PgvectorVersion.ReadAsync(connection, cancellationToken);
            }

            var migrations = await new GalleryMigrator(_connectionString).ListAsync(cancellationToken);
            var pending = migrations.Where(m => !m.IsApplied).Select(m => m.Version).ToList();
            var database = new DatabaseHealth(
                Reachable: true,
                SchemaVersion: migrations.Where(m => m.IsApplied).Select(m => m.Version).DefaultIfEmpty(0).Max(),
                MigrationsCurrent: pending.Count == 0,
                PendingMigrations: pending);
            _lastLoggedCode = null;
            return Report(pending.Count > 0 ? HealthProblem.MigrationsPending : _readiness.Problem, database, pgvector, model);
        }
        catch (Exception exception) when (Classify(exception) is { } problem)
        {
            // Logged once per change of cause, not on every poll of a load balancer.
            if (_lastLoggedCode != problem.Code)
            {
                _lastLoggedCode = problem.Code;
                _logger.LogWarning("health: {Code}: {Reason}", problem.Code, exception.InnerException?.Message ?? exception.Message);
            }

            return Report(problem, new DatabaseHealth(false, null, false, []), null, model);
        }
    }

    private static HealthProblem? Classify(Exception exception) => exception switch
    {
        PostgresException { SqlState: "28P01" or "28000" } => HealthProblem.DatabaseLoginRejected,
        PostgresException { SqlState: "3D000" } => HealthProblem.DatabaseMissing,
        PostgresException { SqlState: "57P03" } => HealthProblem.DatabaseNotReady,
        PostgresException => HealthProblem.DatabaseError,
        NpgsqlException or SocketException or TimeoutException => HealthProblem.DatabaseUnreachable,
        _ => null,
    };

    private static HealthReport Report(HealthProblem? problem, DatabaseHealth? database, PgvectorVersion? pgvector, ModelHealth model) =>
        new(problem?.Status ?? "ok", problem?.Code ?? "ok", problem?.Hint, database, pgvector, model);

    /// <summary>The JSON body of <c>/health</c>; <paramref name="Database"/> and <paramref name="Pgvector"/> are null until checked.</summary>
    internal sealed record HealthReport(string Status, string Code, string? Hint, DatabaseHealth? Database, PgvectorVersion? Pgvector, ModelHealth Model);

    internal sealed record DatabaseHealth(bool Reachable, long? SchemaVersion, bool MigrationsCurrent, IReadOnlyList<long> PendingMigrations);

    internal sealed record ModelHealth(string Name, int Dimension, bool TestModel);
}
