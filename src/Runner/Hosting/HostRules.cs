using System.Net;
using DbFirst.Configuration;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The host names <c>dbfirst serve</c> answers to: localhost and loopback addresses always, the names among
/// <c>--urls</c>, and <c>Dashboard:AllowedHosts</c>, the public names a reverse proxy forwards (which then also
/// count as this server's own origins for POSTs).
/// </summary>
internal sealed class HostRules
{
    private readonly HashSet<string> _known;
    private readonly HashSet<string> _public;

    private HostRules(IEnumerable<string> known, IEnumerable<string> publicHosts)
    {
        _public = new HashSet<string>(publicHosts, StringComparer.OrdinalIgnoreCase);
        _known = new HashSet<string>(known, StringComparer.OrdinalIgnoreCase) { "localhost" };
        _known.UnionWith(_public);
    }

    /// <exception cref="GalleryException">Allowed hosts are configured without credentials.</exception>
    public static HostRules Create(string? allowedHosts, string urls, bool hasCredentials)
    {
        var publicHosts = (allowedHosts ?? "").Split([';', ',', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (publicHosts.Length > 0 && !hasCredentials)
        {
            // Behind a proxy on this machine every request comes from loopback: without credentials anyone the
            // proxy serves would pass the local-only rule.
            throw SettingsReader.Conflict("Dashboard:AllowedHosts needs Dashboard:Username and Dashboard:Password (behind a proxy every request looks local)");
        }

        var known = new List<string>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host is not ("*" or "+" or "0.0.0.0" or "[::]"))
            {
                known.Add(uri.Host);
            }
        }

        return new HostRules(known, publicHosts);
    }

    /// <summary>Whether <paramref name="host"/> (a Host header's name, without the port) is one of this server's names.</summary>
    public bool IsKnown(string host) =>
        _known.Contains(host)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// Whether a browser's <c>Origin</c> is this server: the same host and port as the request's <c>Host</c>,
    /// or a configured public name (the proxy's port differs from ours).
    /// </summary>
    public bool IsOwnOrigin(string origin, string requestHost) =>
        Uri.TryCreate(origin, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && (string.Equals(uri.IsDefaultPort ? uri.Host : uri.Authority, requestHost, StringComparison.OrdinalIgnoreCase)
            || string.Equals(uri.Authority, requestHost, StringComparison.OrdinalIgnoreCase)
            || _public.Contains(uri.Host));
}
