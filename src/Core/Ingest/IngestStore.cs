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
          taken_at       timestamptz,
          via_symlink    boolean NOT NULL
        ) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE ingest_seen (
          path           text PRIMARY KEY,
          content_sha256 bytea
        );
        """;

    private const string CopyBatchSql = """
        COPY ingest_batch (path, is_image, content_sha256, byte_size, width, height, media_type, taken_at, via_symlink) FROM STDIN (FORMAT BINARY)
        """;

    // Rows whose facts are unchanged are not touched at all (no new tuple, so a re-run writes nothing).
    // New content invalidates everything derived from the pixels; a metadata-only correction keeps them.
    private const string UpsertSql = """
        WITH upserted AS (
          INSERT INTO gallery.image_gallery AS g (path, content_sha256, byte_size, width, height, media_type, taken_at, ingested_via_symlink)
          SELECT DISTINCT ON (b.path) b.path, b.content_sha256, b.byte_size, b.width, b.height, b.media_type, b.taken_at, b.via_symlink
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
            ingested_via_symlink = excluded.ingested_via_symlink,
            ingested_at       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN now() ELSE g.ingested_at END,
            embed_attempts    = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN 0 ELSE g.embed_attempts END,
            embed_error       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.embed_error END,
            description       = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.description END,
            description_model = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.description_model END,
            described_at      = CASE WHEN g.content_sha256 IS DISTINCT FROM excluded.content_sha256 THEN NULL ELSE g.described_at END
          WHERE (g.content_sha256, g.byte_size, g.width, g.height, g.media_type, g.taken_at, g.ingested_via_symlink)
                IS DISTINCT FROM
                (excluded.content_sha256, excluded.byte_size, excluded.width, excluded.height, excluded.media_type, excluded.taken_at, excluded.ingested_via_symlink)
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

    // Per root: rows under it, files this walk met under it, and the filesystem it was on when last ingested.
    private const string RootFactsSql = """
        SELECT r.root,
               (SELECT count(*) FROM gallery.image_gallery g WHERE starts_with(g.path, r.prefix) OR g.path = r.root),
               (SELECT count(*) FROM ingest_seen s WHERE starts_with(s.path, r.prefix) OR s.path = r.root),
               (SELECT i.device FROM gallery.ingest_roots i WHERE i.path = r.root)
        FROM unnest(@roots::text[], @prefixes::text[]) AS r(root, prefix)
        """;

    // Deletes and logs in one statement: what prune removed can always be read back from gallery.prune_log.
    private const string PruneSql = """
        WITH gone AS (
          DELETE FROM gallery.image_gallery
          WHERE id = ANY(@ids)
          RETURNING id, path, content_sha256,
                    EXISTS (SELECT 1 FROM gallery.image_embeddings e JOIN gallery.clip_models m ON m.id = e.model_id
                            WHERE e.image_id = image_gallery.id) AS had_embedding,
                    description IS NOT NULL AS had_description
        )
        INSERT INTO gallery.prune_log (root, image_id, path, content_sha256, had_embedding, had_description, forced)
        SELECT r.root, gone.id, gone.path, gone.content_sha256, gone.had_embedding, gone.had_description, @forced
        FROM gone JOIN unnest(@ids, @roots) AS r(id, root) ON r.id = gone.id
        """;

    private const string RecordRootsSql = """
        INSERT INTO gallery.ingest_roots AS i (path, device)
        SELECT * FROM unnest(@paths::text[], @devices::bigint[])
        ON CONFLICT (path) DO UPDATE SET device = excluded.device, recorded_at = now()
        WHERE i.device IS DISTINCT FROM excluded.device
        """;

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

                await copy.WriteAsync(entry.ViaSymlink, NpgsqlDbType.Boolean, cancellationToken);
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
    /// (checked again with <c>lstat</c>, so a file added during the walk, a dangling link or an entry that cannot
    /// be examined is never reported), and deletes them when <see cref="IngestOptions.Prune"/> and the safety checks
    /// of <see cref="PruneGuard"/> pass (or <see cref="IngestOptions.Force"/>). Records each root's filesystem.
    /// </summary>
    /// <exception cref="GalleryException">The prune was refused; nothing was deleted.</exception>
    public async Task<(IReadOnlyList<string> Missing, long Pruned)> FindMissingAsync(
        IReadOnlyList<string> roots, IReadOnlyList<string> unlooked, IngestOptions options, CancellationToken cancellationToken = default)
    {
        var missing = new List<(long Id, string Path, string Root)>();
        await using (var query = new NpgsqlCommand(UnseenUnderRootsSql, _connection))
        {
            query.Parameters.AddWithValue("roots", roots.Select(IngestRoots.AsPrefix).ToArray());
            query.Parameters.AddWithValue("unlooked", unlooked.Select(IngestRoots.AsPrefix).ToArray());
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var path = reader.GetString(1);
                if (IsGone(path))
                {
                    var root = roots.First(r => path == r || path.StartsWith(IngestRoots.AsPrefix(r), StringComparison.Ordinal));
                    missing.Add((reader.GetInt64(0), path, root));
                }
            }
        }

        var facts = await ReadRootFactsAsync(roots, missing, cancellationToken);
        var refusals = facts.Select(f => PruneGuard.Check(f, options.PruneMaxFraction)).OfType<string>().ToList();
        var paths = missing.Select(m => m.Path).ToList();
        var prune = options.Prune && !options.DryRun && missing.Count > 0;
        if (prune && refusals.Count > 0 && !options.Force)
        {
            throw new GalleryException(PruneGuard.Refusal(missing.Count, refusals));
        }

        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        long pruned = 0;
        if (prune)
        {
            await using var delete = new NpgsqlCommand(PruneSql, _connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter<long[]>("ids", missing.Select(m => m.Id).ToArray()));
            delete.Parameters.Add(new NpgsqlParameter<string[]>("roots", missing.Select(m => m.Root).ToArray()));
            delete.Parameters.AddWithValue("forced", refusals.Count > 0);
            pruned = await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        // A root is trusted to be "the" filesystem only when it showed files (or never had rows): an empty mount
        // point must not overwrite the device it is compared against.
        var trusted = facts.Where(f => f.Device is not null && (f.SeenFiles > 0 || f.Rows == 0 || (prune && options.Force))).ToList();
        if (trusted.Count > 0)
        {
            await using var record = new NpgsqlCommand(RecordRootsSql, _connection, transaction);
            record.Parameters.AddWithValue("paths", trusted.Select(f => f.Root).ToArray());
            record.Parameters.AddWithValue("devices", trusted.Select(f => unchecked((long)f.Device!.Value)).ToArray());
            await record.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (paths, pruned);
    }

    // Only "nothing there" counts: an entry that cannot be examined (permission, I/O error) is not known to be gone,
    // and a dangling link is still an entry.
    private static bool IsGone(string path)
    {
        try
        {
            return Files.NativeFile.LStat(path) is null;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private async Task<IReadOnlyList<PruneRootFacts>> ReadRootFactsAsync(
        IReadOnlyList<string> roots, IReadOnlyList<(long Id, string Path, string Root)> missing, CancellationToken cancellationToken)
    {
        var facts = new List<PruneRootFacts>();
        await using var query = new NpgsqlCommand(RootFactsSql, _connection);
        query.Parameters.AddWithValue("roots", roots.ToArray());
        query.Parameters.AddWithValue("prefixes", roots.Select(IngestRoots.AsPrefix).ToArray());
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var root = reader.GetString(0);
            ulong? device;
            string? deviceError = null;
            try
            {
                device = Files.NativeFile.StatFollowing(root)?.Device;
                deviceError = device is null ? "it vanished during the run" : null;
            }
            catch (IOException exception)
            {
                device = null;
                deviceError = $"it cannot be examined ({exception.Message})";
            }

            facts.Add(new PruneRootFacts(
                root,
                Rows: reader.GetInt64(1),
                SeenFiles: reader.GetInt64(2),
                Missing: missing.Count(m => m.Root == root),
                RecordedDevice: reader.IsDBNull(3) ? null : unchecked((ulong)reader.GetInt64(3)),
                Device: device,
                DeviceError: deviceError));
        }

        return facts;
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
