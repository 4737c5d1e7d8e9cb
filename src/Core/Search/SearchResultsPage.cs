using System.Globalization;
using System.Net;
using System.Text;
using DbFirst.Files;
using DbFirst.Imaging;
using SkiaSharp;

namespace DbFirst.Search;

/// <summary>
/// Writes one self-contained HTML page showing a query and its results as a grid: each thumbnail is
/// downscaled and inlined as a base64 JPEG data URI, so the page can be mailed or opened anywhere.
/// </summary>
internal sealed class SearchResultsPage
{
    // Long side of a thumbnail: sharp on a high-density screen at the 200 px the grid shows.
    private const int ThumbnailSize = 320;
    private const int JpegQuality = 80;

    private readonly OrientedImageDecoder _decoder = new();
    private readonly IngestedFileReader _reader;

    /// <param name="reader">Reads the images; one with default limits when null.</param>
    public SearchResultsPage(IngestedFileReader? reader = null)
    {
        _reader = reader ?? new IngestedFileReader();
    }

    /// <summary>Writes the page for <paramref name="hits"/> to <paramref name="path"/>.</summary>
    /// <param name="path">The HTML file to write.</param>
    /// <param name="title">What was searched for, e.g. <c>"a red car"</c> or <c>similar to #42</c>.</param>
    /// <param name="hits">The results, nearest first.</param>
    /// <param name="queryImage">The query image for a similar-image search, shown above the grid.</param>
    /// <param name="files">
    /// What ingest recorded about each hit's file (size, hash, whether it was reached through a link), so a thumbnail
    /// is never made from a file swapped in since; a hit missing here is read with only the kind and size checks.
    /// </param>
    /// <param name="cancellationToken">Stops between thumbnails.</param>
    public async Task WriteAsync(
        string path,
        string title,
        IReadOnlyList<SearchHit> hits,
        string? queryImage = null,
        IReadOnlyDictionary<long, IngestedFile>? files = null,
        CancellationToken cancellationToken = default)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>DbFirst: ").Append(Encode(title)).Append("</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}")
            .Append("h1{font-size:1.3rem}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:1rem}")
            .Append("figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem}")
            .Append("img{width:100%;height:200px;object-fit:contain;background:#eee}.missing{height:200px;display:flex;align-items:center;justify-content:center;background:#eee;color:#888}")
            .Append("figcaption{font-size:.8rem;word-break:break-all;margin-top:.4rem}.query img{max-width:320px}")
            .Append("</style></head><body>\n<h1>").Append(Encode(title)).Append("</h1>\n");
        if (queryImage is not null)
        {
            html.Append("<figure class=\"query\">").Append(Thumbnail(new IngestedFile(queryImage), cancellationToken)).Append("<figcaption>query: ").Append(Encode(queryImage)).Append("</figcaption></figure>\n");
        }

        html.Append("<p>").Append(hits.Count.ToString(CultureInfo.InvariantCulture)).Append(" results, nearest first (cosine distance).</p>\n<div class=\"grid\">\n");
        for (var i = 0; i < hits.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var hit = hits[i];
            var file = files is not null && files.TryGetValue(hit.Id, out var recorded) && recorded.Path == hit.Path ? recorded : new IngestedFile(hit.Path);
            html.Append("<figure>").Append(Thumbnail(file, cancellationToken))
                .Append("<figcaption><b>").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append(".</b> #")
                .Append(hit.Id.ToString(CultureInfo.InvariantCulture)).Append(" &middot; distance ")
                .Append(hit.Distance.ToString("F4", CultureInfo.InvariantCulture)).Append("<br>")
                .Append(Encode(hit.Path)).Append("</figcaption></figure>\n");
        }

        html.Append("</div>\n</body></html>\n");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllTextAsync(path, html.ToString(), new UTF8Encoding(false), cancellationToken);
    }

    private string Thumbnail(IngestedFile file, CancellationToken cancellationToken)
    {
        var imagePath = file.Path;
        try
        {
            using var encoded = _reader.ReadData(file, cancellationToken);
            using var bitmap = _decoder.Decode(encoded, imagePath);
            var scale = Math.Min(1.0, ThumbnailSize / (double)Math.Max(bitmap.Width, bitmap.Height));
            var info = new SKImageInfo(Math.Max(1, (int)(bitmap.Width * scale)), Math.Max(1, (int)(bitmap.Height * scale)), SKColorType.Rgba8888, SKAlphaType.Premul);
            using var small = bitmap.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? throw new InvalidOperationException("resize failed");
            using var image = SKImage.FromBitmap(small);
            using var jpeg = image.Encode(SKEncodedImageFormat.Jpeg, JpegQuality);
            return $"<img alt=\"{Encode(Path.GetFileName(imagePath))}\" src=\"data:image/jpeg;base64,{Convert.ToBase64String(jpeg.AsSpan())}\">";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ImageDecodeException or InvalidOperationException or ArgumentException)
        {
            return $"<div class=\"missing\">cannot show: {Encode(exception.Message)}</div>";
        }
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
