using System.Security.Cryptography;
using System.Text;
using Anthropic.Models.Messages;
using DbFirst.Files;
using DbFirst.Search;
using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Answers a question about the gallery: retrieves the nearest images, sends them (with any stored descriptions)
/// together with the question in one message, and caches the answer under a key that covers everything it was built
/// from: the model, the question, k, and each image sent with its content hash and stored description. An answer for
/// which an image could not be attached is shown but not cached.
/// </summary>
internal sealed class GalleryAsker
{
    private const string CachedSql = """
        UPDATE gallery.ask_cache
           SET hits = hits + 1, last_hit_at = now()
         WHERE cache_key = @key
        RETURNING answer, input_tokens, output_tokens
        """;

    private const string ImageRowsSql = """
        SELECT id, content_sha256, description, path, byte_size, ingested_via_symlink
        FROM gallery.image_gallery
        WHERE id = ANY(@ids)
        """;

    private const string StoreSql = """
        INSERT INTO gallery.ask_cache (question, question_sha256, model, image_ids, k, cache_key, answer, input_tokens, output_tokens)
        VALUES (@question, @hash, @model, @ids, @k, @key, @answer, @input_tokens, @output_tokens)
        ON CONFLICT ON CONSTRAINT ask_cache_lookup DO NOTHING
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly IImageRetriever _retriever;
    private readonly ClaudeClient _claude;
    private readonly ClaudeImagePreparer _preparer;

    public GalleryAsker(NpgsqlDataSource dataSource, IImageRetriever retriever, ClaudeClient claude, ClaudeImagePreparer? preparer = null)
    {
        _dataSource = dataSource;
        _retriever = retriever;
        _claude = claude;
        _preparer = preparer ?? new ClaudeImagePreparer();
    }

    /// <exception cref="GalleryException">The question is empty, nothing was retrieved, or Claude failed.</exception>
    public async Task<AskAnswer> AskAsync(string question, int k, CancellationToken cancellationToken = default)
    {
        question = question?.Trim() ?? "";
        if (question.Length == 0)
        {
            throw new GalleryException("the question is empty");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        var images = await _retriever.RetrieveAsync(question, k, cancellationToken);
        if (images.Count == 0)
        {
            throw new GalleryException("the search found no embedded images to ask about (run the embedding pipeline first)");
        }

        var model = _claude.Options.Model;
        var ids = images.Select(i => i.Id).ToArray();
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(question));
        var rows = await ReadRowsAsync(ids, cancellationToken);
        // The key assumes every image is sent; an answer for which one could not be is never stored under it.
        var key = CacheKey(model, question, k, images, rows);
        await using (var cached = _dataSource.CreateCommand(CachedSql))
        {
            cached.Parameters.AddWithValue("key", key);
            await using var reader = await cached.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return new AskAnswer(reader.GetString(0), model, images, reader.GetInt64(1), reader.GetInt64(2), Cached: true, []);
            }
        }

        var warnings = new List<string>();
        var content = new List<ContentBlockParam> { ClaudeClient.TextBlock(ClaudePrompts.AskIntroduction) };
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i];
            var caption = new StringBuilder($"Image {i + 1} (gallery id {image.Id}, file {Path.GetFileName(image.Path)}).");
            rows.TryGetValue(image.Id, out var row);
            if (row?.Description is { } description)
            {
                caption.Append(" Stored description: ").Append(description);
            }

            try
            {
                var prepared = await _preparer.PrepareAsync(row?.File ?? new IngestedFile(image.Path), cancellationToken);
                content.Add(ClaudeClient.TextBlock(caption.ToString()));
                content.Add(ClaudeClient.ImageBlock(prepared));
            }
            catch (Exception exception) when (exception is ImagePreparationException or IOException or UnauthorizedAccessException)
            {
                warnings.Add($"image {image.Id} left out: {exception.Message}");
                content.Add(ClaudeClient.TextBlock($"{caption} (The image file could not be read, so it is not attached.)"));
            }
        }

        content.Add(ClaudeClient.TextBlock($"{ClaudePrompts.AskInstructions}\n\nQuestion: {question}"));

        ClaudeReply reply;
        try
        {
            reply = await _claude.SendAsync(content, cancellationToken);
        }
        catch (ClaudeException exception)
        {
            throw new GalleryException($"ask failed: {exception.Message}");
        }

        // An answer given without one of the images would be served for good once that image is readable again.
        if (warnings.Count == 0)
        {
            await using var store = _dataSource.CreateCommand(StoreSql);
            store.Parameters.AddWithValue("question", question);
            store.Parameters.AddWithValue("hash", hash);
            store.Parameters.AddWithValue("model", model);
            store.Parameters.AddWithValue("ids", ids);
            store.Parameters.AddWithValue("k", k);
            store.Parameters.AddWithValue("key", key);
            store.Parameters.AddWithValue("answer", reply.Text);
            store.Parameters.AddWithValue("input_tokens", reply.InputTokens);
            store.Parameters.AddWithValue("output_tokens", reply.OutputTokens);
            await store.ExecuteNonQueryAsync(cancellationToken);
        }

        return new AskAnswer(reply.Text, model, images, reply.InputTokens, reply.OutputTokens, Cached: false, warnings);
    }

    /// <summary>
    /// SHA-256 over the model, the question, k and, for each image in rank order, its id, content hash and the
    /// description sent with it. Every part is length-prefixed, so no two different inputs share a key.
    /// </summary>
    internal static byte[] CacheKey(string model, string question, int k, IReadOnlyList<SearchHit> images, IReadOnlyDictionary<long, ImageRow> rows)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(ReadOnlySpan<byte> part)
        {
            Span<byte> length = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, part.Length);
            hash.AppendData(length);
            hash.AppendData(part);
        }

        void AddText(string? text) => Add(text is null ? [0xFF] : Encoding.UTF8.GetBytes("=" + text));

        AddText("dbfirst ask cache key v1");
        AddText(model);
        AddText(question);
        AddText(k.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var image in images)
        {
            var row = rows.GetValueOrDefault(image.Id);
            AddText(image.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add(row?.ContentSha256 is { } sha ? [0x01, .. sha] : [0x00]);
            AddText(row?.Description);
        }

        return hash.GetHashAndReset();
    }

    private async Task<Dictionary<long, ImageRow>> ReadRowsAsync(long[] ids, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<long, ImageRow>();
        await using var command = _dataSource.CreateCommand(ImageRowsSql);
        command.Parameters.AddWithValue("ids", ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var sha256 = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
            rows[reader.GetInt64(0)] = new ImageRow(
                sha256,
                reader.IsDBNull(2) ? null : reader.GetString(2),
                new IngestedFile(reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), sha256, reader.GetBoolean(5)));
        }

        return rows;
    }

    /// <summary>
    /// What an answer depends on besides the file: the content hash ingest recorded and the stored description; and the
    /// file as ingest recorded it, so the bytes sent are those the hash stands for.
    /// </summary>
    internal sealed record ImageRow(byte[]? ContentSha256, string? Description, IngestedFile File);
}
