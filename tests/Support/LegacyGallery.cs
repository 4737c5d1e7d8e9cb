using Npgsql;
using Pgvector;

namespace DbFirst.Tests.Support;

/// <summary>Writes embedded images the way galleries before migration 100 stored them (image_gallery.embedding), for upgrade tests.</summary>
internal static class LegacyGallery
{
    /// <summary>One row per vector, path <c>/legacy/{model}/{i}.jpg</c>, embedded by <paramref name="model"/>; returns the ids in order.</summary>
    public static async Task<long[]> LoadAsync(NpgsqlDataSource dataSource, IReadOnlyList<float[]> vectors, string model)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO gallery.image_gallery (path, embedding, embedding_model, embedded_at)
            SELECT '/legacy/' || $3 || '/' || lpad(u.i::text, 7, '0') || '.jpg', u.embedding, $3, now()
            FROM unnest($1::vector[], $2::int[]) AS u(embedding, i)
            ORDER BY u.i
            RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = vectors.Select(v => new Vector(v)).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = Enumerable.Range(0, vectors.Count).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = model });
        var ids = new List<long>(vectors.Count);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }

        return [.. ids];
    }
}
