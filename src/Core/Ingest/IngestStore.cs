using Npgsql;
using NpgsqlTypes;

namespace DbFirst.Ingest;

/// <summary>
/// Writes what the walk found, a chunk at a time: binary COPY into a temporary table, then one set-based upsert.
/// A session table remembers every path seen, so vanished rows and duplicates are found in SQL at the end
/// without the client holding the gallery in memory. Uses one connection for the whole run (temp tables are per session).
/// </summary>
internal sealed class IngestStore : IAsyncDisposable
{
    private const string CreateTempTablesSql = """
        DROP TABLE IF EXISTS pg_temp.ingest_batch, pg_temp.ingest_seen;
        CREATE TEMP TABLE ingest_batch (
          path           text    NOT NULL,
          is_image       boolean NOT NULL,
          content_sha256 bytea,
          byte_size      bigint,
          width          int,
          height         int,
          media_type     text,
          taken_at       timestamptz
        ) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE ingest_seen (
          path           text PRIMARY KEY,
          content_sha256 bytea
        );
        """;

    private const string CopyBatchSql = """
        COPY ingest_batch (path, is_image, content_sha256, byte_size, width, height, media_type, taken_at) FROM STDIN (FORMAT BINARY)
        """;

    // Rows whose facts are unchanged are not touched at all (no new tuple, so a re-run writes nothing).
    // New content invalidates everything derived from the pixels; a metadata-only correction keeps them.
    private const string UpsertSql = """
        WITH upserted AS (
          INSERT INTO gallery.image_gallery AS g (path, content_sha256, byte_size, width, height, media_type, taken_at)
          SELECT DISTINCT ON (b.path) b.path, b.content_sha256, b.byte_size, b.width, b.height, b.media_type, b.taken_at
          FROM ingest_batch b
          WHERE b.is_image
          ORDER BY b.path
          ON CONFLICT (path) DO UPDATE SET
            content_sha256    = excluded.content_sha256,
            byte_size         = excluded.byte_size,
            width             = excluded.width,
            height            = excluded.height,
            media_type        = excluded.media_type,
            taken_at          = excluded.taken_at,
            ingested_at       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN now() ELSE g.ingested_at END,
            embedding         = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.embedding END,
            embedding_model   = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.embedding_model END,
            embedded_at       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.embedded_at END,
            embed_attempts    = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN 0 ELSE g.embed_attempts END,
            embed_error       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.embed_error END,
            description       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.description END,
            description_model = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.description_model END,
            described_at      = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.described_at END
          WHERE (g.content_sha256, g.byte_size, g.width, g.height, g.media_type, g.taken_at)
                IS DISTINCT FROM
                (excluded.content_sha256, excluded.byte_size, excluded.width, excluded.height, excluded.media_type, excluded.taken_at)
          RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
        """;

    private const string RememberSeenSql = """
        INSERT INTO ingest_seen (path, content_sha256)
        SELECT DISTINCT ON (b.path) b.path, b.content_sha256 FROM ingest_batch b ORDER BY b.path
        ON CONFLICT (path) DO NOTHING
        """;

    // Rows under a root that the walk did not meet. Folders that could not be read, and links that were not
    // followed, are excluded: nobody looked inside them, so nothing there is known to be gone.
    private const string UnseenUnderRootsSql = """
        SELECT g.id, g.path
        FROM gallery.image_gallery g
        WHERE EXISTS (SELECT 1 FROM unnest(@roots::text[]) AS r(prefix) WHERE starts_with(g.path, r.prefix) OR g.path = rtrim(r.prefix, '/'))
          AND NOT EXISTS (SELECT 1 FROM unnest(@unlooked::text[]) AS u(prefix) WHERE starts_with(g.path, u.prefix))
          AND NOT EXISTS (SELECT 1 FROM ingest_seen s WHERE s.path = g.path)
        ORDER BY g.path
        """;

    private const string PruneSql = "DELETE FROM gallery.image_gallery WHERE id = ANY(@ids)";

    private const string DuplicatesSql = """
        SELECT array_agg(g.path ORDER BY g.path)
        FROM gallery.image_gallery g
        WHERE g.content_sha256 IN (SELECT s.content_sha256 FROM ingest_seen s WHERE s.content_sha256 IS NOT NULL)
        GROUP BY g.content_sha256
        HAVING count(*) > 1
        ORDER BY min(g.path)
        """;

    private readonly NpgsqlConnection _connection;

    private IngestStore(NpgsqlConnection connection)
    {
        _connection = connection;
    }

    public static async Task<IngestStore> OpenAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using (var check = new NpgsqlCommand("SELECT to_regclass('gallery.image_gallery') IS NOT NULL", connection))
            {
                if (await check.ExecuteScalarAsync(cancellationToken) is not true)
                {
                    throw new GalleryException("the database has no gallery.image_gallery table: run `dbfirst migrate up` first");
                }
            }

            await using var create = new NpgsqlCommand(CreateTempTablesSql, connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            return new IngestStore(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Copies one chunk and upserts it in one transaction; returns the rows added and updated.</summary>
    public async Task<(long Added, long Updated)> WriteChunkAsync(IReadOnlyList<ScannedEntry> chunk, CancellationToken cancellationToken = default)
    {
        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        await using (var copy = await _connection.BeginBinaryImportAsync(CopyBatchSql, cancellationToken))
        {
            foreach (var entry in chunk)
            {
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(entry.Path, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(entry.Facts is not null, NpgsqlDbType.Boolean, cancellationToken);
                if (entry.Facts is { } facts)
                {
                    await copy.WriteAsync(facts.Sha256, NpgsqlDbType.Bytea, cancellationToken);
                    await copy.WriteAsync(facts.ByteSize, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(facts.Width, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(facts.Height, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(facts.MediaType, NpgsqlDbType.Text, cancellationToken);
                    if (facts.TakenAt is { } takenAt)
                    {
                        await copy.WriteAsync(takenAt, NpgsqlDbType.TimestampTz, cancellationToken);
                    }
                    else
                    {
                        await copy.WriteNullAsync(cancellationToken);
                    }
                }
                else
                {
                    for (var column = 0; column < 6; column++)
                    {
                        await copy.WriteNullAsync(cancellationToken);
                    }
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        long added, updated;
        await using (var upsert = new NpgsqlCommand(UpsertSql, _connection, transaction))
        await using (var reader = await upsert.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            added = reader.GetInt64(0);
            updated = reader.GetInt64(1);
        }

        await using (var remember = new NpgsqlCommand(RememberSeenSql, _connection, transaction))
        {
            await remember.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (added, updated);
    }

    /// <summary>
    /// Finds rows under <paramref name="roots"/> whose file the walk did not meet and that are not on disk now
    /// (checked again, so a file added during the walk is never reported), and deletes them when <paramref name="prune"/>.
    /// </summary>
    public async Task<(IReadOnlyList<string> Missing, long Pruned)> FindMissingAsync(
        IReadOnlyList<string> roots, IReadOnlyList<string> unlooked, bool prune, CancellationToken cancellationToken = default)
    {
        var missing = new List<string>();
        var ids = new List<long>();
        await using (var query = new NpgsqlCommand(UnseenUnderRootsSql, _connection))
        {
            query.Parameters.AddWithValue("roots", roots.Select(IngestRoots.AsPrefix).ToArray());
            query.Parameters.AddWithValue("unlooked", unlooked.Select(IngestRoots.AsPrefix).ToArray());
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var path = reader.GetString(1);
                if (!File.Exists(path))
                {
                    ids.Add(reader.GetInt64(0));
                    missing.Add(path);
                }
            }
        }

        if (!prune || ids.Count == 0)
        {
            return (missing, 0);
        }

        await using var delete = new NpgsqlCommand(PruneSql, _connection);
        delete.Parameters.AddWithValue("ids", ids.ToArray());
        return (missing, await delete.ExecuteNonQueryAsync(cancellationToken));
    }

    /// <summary>Groups of paths sharing content with a file seen in this run.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> FindDuplicatesAsync(CancellationToken cancellationToken = default)
    {
        var groups = new List<IReadOnlyList<string>>();
        await using var query = new NpgsqlCommand(DuplicatesSql, _connection);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            groups.Add(reader.GetFieldValue<string[]>(0));
        }

        return groups;
    }

    public async ValueTask DisposeAsync()
    {
        // The pool may hand this session to someone else; leave no temp tables behind.
        if (_connection.State == System.Data.ConnectionState.Open)
        {
            try
            {
                await using var drop = new NpgsqlCommand("DROP TABLE IF EXISTS pg_temp.ingest_batch, pg_temp.ingest_seen", _connection);
                await drop.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // The connection is broken; closing it below discards the session and its temp tables anyway.
            }
        }

        await _connection.DisposeAsync();
    }
}
