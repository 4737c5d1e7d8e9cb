using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Whether <c>dbfirst serve</c> has done what <c>gallery.search</c> depends on. <c>/health</c> answers "starting" until
/// <see cref="CompleteStartupAsync"/> has run every start-up step, so a client that waits for "ok" can search at once
/// (before, <c>/health</c> answered "ok" while <c>embed_url</c> still named the default port).
/// </summary>
internal sealed class ServeReadiness
{
    private volatile HealthProblem? _problem;

    private ServeReadiness(HealthProblem? problem) => _problem = problem;

    /// <summary>What keeps the host from being ready, or null once it is.</summary>
    public HealthProblem? Problem => _problem;

    /// <summary>For a host whose start-up steps have not run yet.</summary>
    public static ServeReadiness Starting() => new(HealthProblem.Starting);

    /// <summary>For a host with no start-up steps (the worker; probes in tests).</summary>
    public static ServeReadiness Ready() => new(null);

    /// <summary>
    /// The start-up steps, in order: publish this host's <c>/embed/text</c> address into <c>gallery.settings</c>, then
    /// turn ready. Checks of the SQL-to-encoder path belong here too, before the state changes. Returns the
    /// published URL, or null when <paramref name="urls"/> has no loopback http address (then it stays degraded).
    /// </summary>
    public async Task<string?> CompleteStartupAsync(NpgsqlDataSource dataSource, IEnumerable<string> urls, CancellationToken cancellationToken)
    {
        var embedUrl = await EmbedUrlPublisher.PublishAsync(dataSource, urls, cancellationToken);
        _problem = embedUrl is null ? HealthProblem.SearchUnpublished : null;
        return embedUrl;
    }
}
