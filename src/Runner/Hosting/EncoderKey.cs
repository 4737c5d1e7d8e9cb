using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The key in <c>gallery.encoder_key</c> with which <c>dbfirst serve</c> proves to <c>gallery.text_embedding</c> that it
/// is the real encoder (migration 42, <c>gallery_encoder.fetch</c>). Read once through the process's own login.
/// </summary>
internal sealed class EncoderKey
{
    private const string HelloContext = "dbfirst-encoder-hello\n";
    private const string EmbeddingContext = "dbfirst-encoder-embedding\n";

    private readonly Lazy<Task<byte[]>> _key;

    public EncoderKey(NpgsqlDataSource dataSource) =>
        _key = new Lazy<Task<byte[]>>(() => LoadAsync(dataSource));

    /// <summary>Reads the key now, so a missing grant or migration stops <c>serve</c> at start instead of at the first search.</summary>
    public Task LoadAsync() => _key.Value;

    /// <summary>HMAC-SHA256(key, "dbfirst-encoder-hello\n" ‖ nonce): the answer that proves the key without revealing it.</summary>
    public async Task<string> ProveAsync(byte[] nonce) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(await _key.Value, (byte[])[.. Encoding.ASCII.GetBytes(HelloContext), .. nonce]));

    /// <summary>HMAC-SHA256(key, "dbfirst-encoder-embedding\n" ‖ nonce ‖ "\n" ‖ SHA-256(text) ‖ "\n" ‖ body): binds the answer to this request.</summary>
    public async Task<string> SignAsync(byte[] nonce, string text, byte[] body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(
            await _key.Value,
            (byte[])[.. Encoding.ASCII.GetBytes(EmbeddingContext), .. nonce, (byte)'\n', .. SHA256.HashData(Encoding.UTF8.GetBytes(text)), (byte)'\n', .. body]));

    private static async Task<byte[]> LoadAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT key FROM gallery.encoder_key");
        return await command.ExecuteScalarAsync() as byte[]
            ?? throw new GalleryException("gallery.encoder_key is empty: run 'dbfirst migrate up'");
    }
}
