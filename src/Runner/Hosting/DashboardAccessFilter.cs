using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

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
                throw new GalleryException("set both Dashboard:Username and Dashboard:Password, or neither");
            }

            _usernameHash = Hash(username);
            _passwordHash = Hash(password);
        }
    }

    public bool RequiresCredentials => _usernameHash is not null;

    public Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        if (!RequiresCredentials)
        {
            return Task.FromResult(http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote));
        }

        if (HasValidCredentials(http.Request.Headers.Authorization.ToString()))
        {
            return Task.FromResult(true);
        }

        // Hangfire answers 401 for an unauthenticated request; the challenge makes browsers ask for the password.
        http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
        return Task.FromResult(false);
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
