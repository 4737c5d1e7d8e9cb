using Npgsql;

namespace DbFirst.Files;

/// <summary>Looks up what ingest recorded about some rows' files, so a reader can check it still finds the same file.</summary>
internal static class IngestedFileCatalog
{
    private const string LookupSql = """
        SELECT id, path, byte_size, content_sha256, ingested_via_symlink
        FROM gallery.image_gallery
        WHERE id = ANY(@ids)
        """;

    /// <summary>The recorded file of each id that has a row.</summary>
    public static async Task<IReadOnlyDictionary<long, IngestedFile>> LoadAsync(
        NpgsqlDataSource dataSource, IEnumerable<long> ids, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(LookupSql);
        command.Parameters.Add(new NpgsqlParameter<long[]>("ids", ids.Distinct().ToArray()));
        var files = new Dictionary<long, IngestedFile>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            files[reader.GetInt64(0)] = new IngestedFile(
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<byte[]>(3),
                reader.GetBoolean(4));
        }

        return files;
    }
}
