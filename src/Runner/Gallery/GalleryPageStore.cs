using DbFirst.Database;
using Npgsql;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// The gallery page's own queries. Each reads rows by primary key or walks a partial index, so a request costs the
/// same however large the gallery grows; the searches themselves go through <see cref="Search.GallerySearch"/>.
/// </summary>
internal sealed class GalleryPageStore
{
    // The embedding shown is the active model's (the one searches use): one primary-key probe of its partition.
    private const string Columns = """
        g.id, g.path, g.content_sha256, g.byte_size, g.width, g.height, g.media_type, g.taken_at, a.name, a.embedded_at,
        g.embed_error, g.embed_error_permanent, g.embed_attempts, g.description, g.description_model, g.describe_requested_at, g.describe_error,
        g.ingested_via_symlink
        """;

    private const string ActiveEmbedding = """
        LEFT JOIN LATERAL (
          SELECT m.name, e.embedded_at
          FROM gallery.clip_models m
          JOIN gallery.image_embeddings e ON e.model_id = m.id AND e.image_id = g.id
          WHERE m.state = 'active'
        ) a ON true
        """;

    private const string ByIdsSql = $"SELECT {Columns} FROM gallery.image_gallery g {ActiveEmbedding} WHERE g.id = ANY(@ids)";

    // Walks image_gallery_failed_idx (id WHERE embed_error IS NOT NULL): only failed rows are read, in id order. A
    // success clears the error, so these are rows some model still has pending. Both kinds of failure: permanent
    // ones, and transient ones waiting for their next attempt.
    private const string FailedSql = $"""
        SELECT {Columns}
        FROM gallery.image_gallery g {ActiveEmbedding}
        WHERE g.embed_error IS NOT NULL AND g.id > @after
        ORDER BY g.id
        LIMIT @limit
        """;

    private const string RequestDescriptionSql = "SELECT gallery.request_description(@id)";
    private const string RequestReembedSql = "SELECT gallery.request_reembed(@id)";

    private readonly NpgsqlDataSource _dataSource;

    public GalleryPageStore(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The images among <paramref name="ids"/> that exist, keyed by id.</summary>
    public async Task<IReadOnlyDictionary<long, ImageDetails>> ByIdsAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken = default)
    {
        var found = new Dictionary<long, ImageDetails>();
        if (ids.Count == 0)
        {
            return found;
        }

        await using var command = _dataSource.CreateCommand(ByIdsSql);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var details = Read(reader);
            found[details.Id] = details;
        }

        return found;
    }

    public async Task<ImageDetails?> ByIdAsync(long id, CancellationToken cancellationToken = default) =>
        (await ByIdsAsync([id], cancellationToken)).GetValueOrDefault(id);

    /// <summary>Images whose embedding failed (permanently, or retrying later), by id from after <paramref name="afterId"/>: keyset paging, no OFFSET.</summary>
    public async Task<IReadOnlyList<ImageDetails>> FailedAsync(long afterId, int limit, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(FailedSql);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("limit", limit);
        var rows = new List<ImageDetails>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Read(reader));
        }

        return rows;
    }

    /// <summary>pgvector's version in this database and on the server, read as <c>dbfirst status</c> reads it.</summary>
    public async Task<PgvectorVersion> PgvectorAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await PgvectorVersion.ReadAsync(connection, cancellationToken);
    }

    /// <summary>Marks the image for the describe-pending job; false when there is no such image.</summary>
    public Task<bool> RequestDescriptionAsync(long id, CancellationToken cancellationToken = default) =>
        CallAsync(RequestDescriptionSql, id, cancellationToken);

    /// <summary>Clears the image's embedding so the next embed-pending run redoes it; false when there is no such image.</summary>
    public Task<bool> RequestReembedAsync(long id, CancellationToken cancellationToken = default) =>
        CallAsync(RequestReembedSql, id, cancellationToken);

    private async Task<bool> CallAsync(string sql, long id, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    private static ImageDetails Read(NpgsqlDataReader r) => new(
        r.GetInt64(0),
        r.GetString(1),
        r.IsDBNull(2) ? null : r.GetFieldValue<byte[]>(2),
        r.IsDBNull(3) ? null : r.GetInt64(3),
        r.IsDBNull(4) ? null : r.GetInt32(4),
        r.IsDBNull(5) ? null : r.GetInt32(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
        r.IsDBNull(10) ? null : r.GetString(10),
        r.GetBoolean(11),
        r.GetInt32(12),
        r.IsDBNull(13) ? null : r.GetString(13),
        r.IsDBNull(14) ? null : r.GetString(14),
        r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15),
        r.IsDBNull(16) ? null : r.GetString(16),
        r.GetBoolean(17));
}
