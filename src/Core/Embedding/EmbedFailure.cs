using DbFirst.Imaging;

namespace DbFirst.Embedding;

/// <summary>Why one row could not be embedded, as stored in <c>embed_error</c>.</summary>
/// <param name="Reason">A readable reason.</param>
/// <param name="Permanent">Whether retrying cannot help.</param>
internal sealed record EmbedFailure(string Reason, bool Permanent)
{
    /// <summary>
    /// Undecodable files and decompression bombs are permanent. I/O errors (missing file, permission, a share gone
    /// away) are transient. Anything else is treated as transient too, so a bug shows up as a bounded number of
    /// retries and a readable error rather than as rows written off for good.
    /// </summary>
    public static EmbedFailure From(Exception exception) => exception switch
    {
        ImageDecodeException decode => new EmbedFailure($"cannot decode: {decode.Reason}", Permanent: true),
        FileNotFoundException or DirectoryNotFoundException => new EmbedFailure("file not found", Permanent: false),
        UnauthorizedAccessException => new EmbedFailure($"cannot read: {exception.Message}", Permanent: false),
        IOException => new EmbedFailure($"cannot read: {exception.Message}", Permanent: false),
        _ => new EmbedFailure($"{exception.GetType().Name}: {exception.Message}", Permanent: false),
    };
}
