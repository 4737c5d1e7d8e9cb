using System.Net;
using System.Security.Cryptography;
using System.Text;
using DbFirst.Configuration;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Who may see the Hangfire dashboard. Without <c>Dashboard:Username</c>/<c>Dashboard:Password</c> only requests from
/// a loopback address; with them, HTTP basic authentication for everyone, local or not.
/// </summary>
/// <remarks>
/// Hand-written: the offline package mirror has no maintained basic-auth filter for Hangfire 1.8. Loopback is all
/// this filter can see, so behind a reverse proxy on the same host every request looks local: such deployments must
/// configure credentials.
/// </remarks>
internal sealed class DashboardAccessFilter : IDashboardAsyncAuthorizationFilter
{
    public const string Realm = "DbFirst Hangfire";

    private readonly byte[]? _usernameHash;
    private readonly byte[]? _passwordHash;

    public DashboardAccessFilter(string? username, string? password)
    {
        if (!string.IsNullOrEmpty(username) || !string.IsNullOrEmpty(password))
        {
            if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
            {
                throw SettingsReader.Conflict("set both Dashboard:Username and Dashboard:Password, or neither");
            }

            _usernameHash = Hash(username);
            _passwordHash = Hash(password);
        }
    }

    public bool RequiresCredentials => _usernameHash is not null;

    public Task<bool> AuthorizeAsync(DashboardContext context) => Task.FromResult(IsAllowed(context.GetHttpContext()));

    /// <summary>
    /// The one access rule of <c>dbfirst serve</c>'s pages (dashboard and gallery page alike). When it refuses and
    /// credentials are configured, it adds the challenge that makes browsers ask for them; the caller answers 401.
    /// </summary>
    public bool IsAllowed(HttpContext http)
    {
        if (!RequiresCredentials)
        {
            return http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote);
        }

        if (HasValidCredentials(http.Request.Headers.Authorization.ToString()))
        {
            return true;
        }

        http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
        return false;
    }

    private bool HasValidCredentials(string header)
    {
        const string scheme = "Basic ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        // Comparing fixed-length hashes in constant time reveals neither the values nor their lengths;
        // the non-short-circuiting & checks the password even when the user name is wrong.
        var userMatches = CryptographicOperations.FixedTimeEquals(Hash(decoded[..colon]), _usernameHash);
        var passwordMatches = CryptographicOperations.FixedTimeEquals(Hash(decoded[(colon + 1)..]), _passwordHash);
        return userMatches & passwordMatches;
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));
}
