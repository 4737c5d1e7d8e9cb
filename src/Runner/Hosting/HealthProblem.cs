namespace DbFirst.Runner.Hosting;

/// <summary>
/// Why <c>/health</c> is not "ok", as a stable code and a hint. Never the driver's error text: <c>/health</c> is
/// unauthenticated.
/// </summary>
/// <param name="Status">"starting", "degraded" (up, but something needs an operator) or "unhealthy".</param>
/// <param name="Code">A stable identifier that scripts can match, e.g. <c>database_unreachable</c>.</param>
/// <param name="Hint">What to do about it, for a person.</param>
internal sealed record HealthProblem(string Status, string Code, string Hint)
{
    public static readonly HealthProblem Starting = new(
        "starting", "starting", "serve is publishing its address for gallery.search; retry in a moment");

    public static readonly HealthProblem SearchUnpublished = new(
        "degraded", "search_unpublished", "no loopback http address among --urls, so gallery.search cannot reach this host: add e.g. http://127.0.0.1:5000");

    public static readonly HealthProblem DatabaseUnreachable = new(
        "unhealthy", "database_unreachable", "start PostgreSQL (scripts/db.sh start) or check ConnectionStrings__Gallery");

    public static readonly HealthProblem DatabaseLoginRejected = new(
        "unhealthy", "database_login_rejected", "the database refused serve's login: check the user and password in ConnectionStrings__Gallery");

    public static readonly HealthProblem DatabaseMissing = new(
        "unhealthy", "database_missing", "the configured database does not exist: scripts/db.sh start creates the local one, then dbfirst migrate up");

    public static readonly HealthProblem DatabaseNotReady = new(
        "unhealthy", "database_not_ready", "PostgreSQL is starting up or shutting down; retry in a moment");

    public static readonly HealthProblem DatabaseError = new(
        "unhealthy", "database_error", "the database answered with an error; serve's log has it");

    public static readonly HealthProblem MigrationsPending = new(
        "degraded", "migrations_pending", "run: dbfirst migrate up");
}
