using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// Points <c>gallery.settings.embed_url</c> at the serving host, so <c>gallery.search</c> in psql reaches
/// this <c>dbfirst serve</c> whatever port it was started on.
/// </summary>
internal static class EmbedUrlPublisher
{
    /// <summary>Publishes the first loopback address among <paramref name="urls"/>; returns it, or null if there is none.</summary>
    public static async Task<string?> PublishAsync(NpgsqlDataSource dataSource, IEnumerable<string> urls, CancellationToken cancellationToken = default)
    {
        var loopback = urls
            .Select(url => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null)
            .FirstOrDefault(uri => uri is { Scheme: "http", IsLoopback: true });
        if (loopback is null)
        {
            // The database calls the endpoint on its own machine; a host without a loopback address is not reachable that way.
            return null;
        }

        var embedUrl = new Uri(loopback, EmbedTextEndpoint.Route).ToString();
        // The owner's function checks the URL (loopback http, explicit port): the runtime login may set nothing else.
        await using var command = dataSource.CreateCommand("SELECT gallery.publish_embed_url(@url)");
        command.Parameters.AddWithValue("url", embedUrl);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return embedUrl;
    }
}
