using System.Security.Cryptography;
using System.Text;
using Anthropic.Models.Messages;
using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// Answers a question about the gallery: retrieves the nearest images, sends them (with any stored descriptions)
/// together with the question in one message, and caches the answer by question, model and image ids.
/// </summary>
internal sealed class GalleryAsker
{
    private const string CachedSql = """
        UPDATE gallery.ask_cache
           SET hits = hits + 1, last_hit_at = now()
         WHERE question_sha256 = @hash AND model = @model AND image_ids = @ids
        RETURNING answer, input_tokens, output_tokens
        """;

    private const string DescriptionsSql = """
        SELECT id, description FROM gallery.image_gallery WHERE id = ANY(@ids) AND description IS NOT NULL
        """;

    private const string StoreSql = """
        INSERT INTO gallery.ask_cache (question, question_sha256, model, image_ids, answer, input_tokens, output_tokens)
        VALUES (@question, @hash, @model, @ids, @answer, @input_tokens, @output_tokens)
        ON CONFLICT ON CONSTRAINT ask_cache_key DO NOTHING
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
        await using (var cached = _dataSource.CreateCommand(CachedSql))
        {
            cached.Parameters.AddWithValue("hash", hash);
            cached.Parameters.AddWithValue("model", model);
            cached.Parameters.AddWithValue("ids", ids);
            await using var reader = await cached.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                return new AskAnswer(reader.GetString(0), model, images, reader.GetInt64(1), reader.GetInt64(2), Cached: true, []);
            }
        }

        var descriptions = await DescriptionsAsync(ids, cancellationToken);
        var warnings = new List<string>();
        var content = new List<ContentBlockParam> { ClaudeClient.TextBlock(ClaudePrompts.AskIntroduction) };
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i];
            var caption = new StringBuilder($"Image {i + 1} (gallery id {image.Id}, file {Path.GetFileName(image.Path)}).");
            if (descriptions.TryGetValue(image.Id, out var description))
            {
                caption.Append(" Stored description: ").Append(description);
            }

            try
            {
                var prepared = await _preparer.PrepareAsync(image.Path, cancellationToken);
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

        await using (var store = _dataSource.CreateCommand(StoreSql))
        {
            store.Parameters.AddWithValue("question", question);
            store.Parameters.AddWithValue("hash", hash);
            store.Parameters.AddWithValue("model", model);
            store.Parameters.AddWithValue("ids", ids);
            store.Parameters.AddWithValue("answer", reply.Text);
            store.Parameters.AddWithValue("input_tokens", reply.InputTokens);
            store.Parameters.AddWithValue("output_tokens", reply.OutputTokens);
            await store.ExecuteNonQueryAsync(cancellationToken);
        }

        return new AskAnswer(reply.Text, model, images, reply.InputTokens, reply.OutputTokens, Cached: false, warnings);
    }

    private async Task<Dictionary<long, string>> DescriptionsAsync(long[] ids, CancellationToken cancellationToken)
    {
        var descriptions = new Dictionary<long, string>();
        await using var command = _dataSource.CreateCommand(DescriptionsSql);
        command.Parameters.AddWithValue("ids", ids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            descriptions[reader.GetInt64(0)] = reader.GetString(1);
        }

        return descriptions;
    }
}
