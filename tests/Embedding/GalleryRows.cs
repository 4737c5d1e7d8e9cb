using DbFirst.Tests.Support;

namespace DbFirst.Tests.Embedding;

/// <summary>Writes gallery rows straight into a test database, as ingest would.</summary>
internal static class GalleryRows
{
    public static async Task InsertAsync(TestDatabase database, IEnumerable<string> paths)
    {
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("INSERT INTO gallery.image_gallery (path) SELECT unnest(@paths)", connection);
        command.Parameters.AddWithValue("paths", paths.ToArray());
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Creates <paramref name="count"/> small distinct files under <paramref name="directory"/> and returns their paths.</summary>
    public static IReadOnlyList<string> WriteFiles(string directory, int count, string prefix = "img")
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var path = Path.Combine(directory, $"{prefix}-{i:D5}.bin");
            File.WriteAllText(path, $"image {prefix} {i}");
            paths.Add(path);
        }

        return paths;
    }
}
