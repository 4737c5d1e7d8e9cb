using DbFirst.Files;
using DbFirst.Imaging;

namespace DbFirst.Embedding;

/// <summary>Why one row could not be embedded, as stored in <c>embed_error</c>.</summary>
/// <param name="Reason">A readable reason.</param>
/// <param name="Permanent">Whether retrying cannot help.</param>
/// <param name="ContentChanged">The file is no longer the one ingested: the row waits for ingest to look at it again.</param>
internal sealed record EmbedFailure(string Reason, bool Permanent, bool ContentChanged = false)
{
    /// <summary>
    /// Undecodable files, decompression bombs, files that are not regular files (FIFO, socket, device, a link
    /// swapped in) and files over the size cap are permanent. I/O errors, timeouts and missing files (a share gone
    /// away) are transient and retried with back-off. Anything else is treated as transient too, so a bug shows up
    /// as retries and a readable error rather than as rows written off for good.
    /// </summary>
    public static EmbedFailure From(Exception exception) => exception switch
    {
        ImageDecodeException decode => new EmbedFailure($"cannot decode: {decode.Reason}", Permanent: true),
        FileReadException { Failure: FileReadFailure.Changed } read =>
            new EmbedFailure($"{read.Reason}: run `dbfirst ingest` on its folder again", Permanent: true, ContentChanged: true),
        FileReadException read => new EmbedFailure(read.Reason, Permanent: read.Failure == FileReadFailure.Permanent),
        FileNotFoundException or DirectoryNotFoundException => new EmbedFailure("file not found", Permanent: false),
        UnauthorizedAccessException => new EmbedFailure($"cannot read: {exception.Message}", Permanent: false),
        IOException => new EmbedFailure($"cannot read: {exception.Message}", Permanent: false),
        _ => new EmbedFailure($"{exception.GetType().Name}: {exception.Message}", Permanent: false),
    };
}
