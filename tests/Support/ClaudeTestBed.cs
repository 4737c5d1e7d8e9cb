
namespace DbFirst.Tests.Support;

/// <summary>
/// What every Claude test stands on: a migrated database, a fake Messages API on loopback that expects
/// <see cref="Key"/>, and a folder for the images the rows point at. All of it is removed at dispose.
/// </summary>
internal sealed class ClaudeTestBed : IAsyncDisposable
{
    private ClaudeTestBed(string key, TestDatabase database, FakeMessagesApi fake, string folder)
    {
        Key = key;
        Database = database;
        Fake = fake;
        Folder = folder;
    }

    public string Key { get; }

    public TestDatabase Database { get; }

    public FakeMessagesApi Fake { get; }

    public string Folder { get; }

    public static async Task<ClaudeTestBed> StartAsync(string key)
    {
        var database = await TestDatabase.CreateAsync();
        var fake = await FakeMessagesApi.StartAsync(key);
        return new ClaudeTestBed(key, database, fake, Directory.CreateTempSubdirectory("dbfirst-claude-").FullName);
    }

    /// <summary>Adds a row for <paramref name="name"/> in the folder, writing <paramref name="bytes"/> (a red/blue test image by default) unless <paramref name="write"/> is false.</summary>
    public async Task<long> AddImageAsync(string name, byte[]? bytes = null, bool write = true)
    {
        var path = Path.Combine(Folder, name);
        if (!write)
        {
            return await Database.ScalarAsync<long>($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}') RETURNING id");
        }

        // Recorded as ingest records it (size and hash), since every read checks the file is still the ingested one.
        bytes ??= TestImages.SplitRedBlue(200, 100);
        await File.WriteAllBytesAsync(path, bytes);
        return await Database.ScalarAsync<long>(
            $"INSERT INTO gallery.image_gallery (path, byte_size, content_sha256) VALUES ('{path}', {bytes.Length}, '{Hex(bytes)}') RETURNING id");
    }

    /// <summary>Gives image <paramref name="id"/> new bytes on disk and records them as a re-ingest would (new size and hash).</summary>
    public async Task ChangeImageAsync(long id, byte[] bytes)
    {
        var path = await Database.ScalarAsync<string>($"SELECT path FROM gallery.image_gallery WHERE id = {id}");
        await File.WriteAllBytesAsync(path!, bytes);
        await Database.ExecuteAsync($"UPDATE gallery.image_gallery SET byte_size = {bytes.Length}, content_sha256 = '{Hex(bytes)}' WHERE id = {id}");
    }

    private static string Hex(byte[] bytes) => "\\x" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    public async ValueTask DisposeAsync()
    {
        await Fake.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(Folder, recursive: true);
    }
}
