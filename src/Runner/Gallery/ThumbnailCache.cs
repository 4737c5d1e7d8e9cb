using System.Collections.Concurrent;
using System.Globalization;
using DbFirst.Files;
using DbFirst.Imaging;
using SkiaSharp;

namespace DbFirst.Runner.Gallery;

/// <summary>
/// JPEG renditions of gallery images (EXIF orientation applied by <see cref="OrientedImageDecoder"/>), cached on
/// disk under a byte budget: the least recently used files go first when a new one would exceed it.
/// </summary>
/// <remarks>
/// A file's name holds the image id, the rendition size and its content hash from the database, so a changed
/// file gets a new rendition and the stale one ages out. At most one decode per core runs at once: a page of
/// thumbnails cannot take all the memory a large photo's decode needs times the grid's size.
/// </remarks>
internal sealed class ThumbnailCache
{
    /// <summary>The long sides served: grid thumbnails and the image page's view.</summary>
    public static readonly IReadOnlyList<int> Sizes = [320, 1600];

    private const int JpegQuality = 82;

    private readonly string _directory;
    private readonly long _maxBytes;
    private readonly IngestedFileReader _reader;
    private readonly OrientedImageDecoder _decoder = new();
    private readonly SemaphoreSlim _decodes = new(Environment.ProcessorCount);
    private readonly ConcurrentDictionary<string, Lazy<Task<byte[]>>> _inFlight = new();
    private readonly Lock _trimLock = new();
    private long _bytes = -1;

    public ThumbnailCache(string directory, long maxBytes, IngestedFileReader? reader = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        _directory = directory;
        _maxBytes = maxBytes;
        _reader = reader ?? new IngestedFileReader();
    }

    /// <summary>Returns the JPEG for <paramref name="image"/> at long side <paramref name="size"/>, from the cache or made now.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ImageDecodeException">The file is not a decodable image.</exception>
    public async Task<byte[]> GetAsync(ImageDetails image, int size, CancellationToken cancellationToken = default)
    {
        if (!Sizes.Contains(size))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "not a served rendition size");
        }

        var name = string.Create(CultureInfo.InvariantCulture,
            $"{image.Id}-{size}-{(image.ContentSha256 is { } sha ? Convert.ToHexStringLower(sha.AsSpan(0, Math.Min(8, sha.Length))) : "nohash")}.jpg");
        var path = Path.Combine(_directory, name);
        try
        {
            var cached = await File.ReadAllBytesAsync(path, cancellationToken);
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
            return cached;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            // Not made yet, or trimmed: make it below.
        }

        // Concurrent requests for one rendition share one decode.
        var made = _inFlight.GetOrAdd(name, _ => new Lazy<Task<byte[]>>(() => MakeAsync(image.File, size, path)));
        try
        {
            return await made.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (made.Value.IsCompleted)
            {
                _inFlight.TryRemove(name, out _);
            }
        }
    }

    private async Task<byte[]> MakeAsync(IngestedFile file, int size, string cachePath)
    {
        // The reader blocks for at most its timeout (never on a FIFO); keep that off the request's async context.
        var encoded = await Task.Run(() => _reader.ReadBytes(file));
        byte[] jpeg;
        await _decodes.WaitAsync();
        try
        {
            jpeg = Render(encoded, file.Path, size);
        }
        finally
        {
            _decodes.Release();
        }

        Store(cachePath, jpeg);
        return jpeg;
    }

    private byte[] Render(byte[] encoded, string name, int size)
    {
        using var bitmap = _decoder.Decode(encoded, Path.GetFileName(name), minShortSide: null);
        var scale = Math.Min(1.0, size / (double)Math.Max(bitmap.Width, bitmap.Height));
        var info = new SKImageInfo(Math.Max(1, (int)(bitmap.Width * scale)), Math.Max(1, (int)(bitmap.Height * scale)), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var small = bitmap.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell))
            ?? throw new ImageDecodeException(name, "resizing failed");
        using var image = SKImage.FromBitmap(small);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, JpegQuality);
        return data.ToArray();
    }

    private void Store(string path, byte[] jpeg)
    {
        try
        {
            Directory.CreateDirectory(_directory);
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            File.WriteAllBytes(temporary, jpeg);
            File.Move(temporary, path, overwrite: true);
            Trim(jpeg.Length);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written costs speed, not correctness: the rendition is still served.
        }
    }

    /// <summary>Deletes least recently used renditions until the cache is back under 90% of its budget.</summary>
    private void Trim(long added)
    {
        lock (_trimLock)
        {
            // The directory is listed only on the first write and when the running total says the budget is spent.
            _bytes = _bytes < 0 ? DirectorySize() : _bytes + added;
            if (_bytes <= _maxBytes)
            {
                return;
            }

            var files = new DirectoryInfo(_directory).GetFiles("*.jpg");
            _bytes = files.Sum(f => f.Length);
            foreach (var file in files.OrderBy(f => f.LastAccessTimeUtc))
            {
                if (_bytes <= _maxBytes * 9 / 10)
                {
                    break;
                }

                try
                {
                    var length = file.Length;
                    file.Delete();
                    _bytes -= length;
                }
                catch (IOException)
                {
                    // Another process may have removed it already; the next trim recounts.
                }
            }
        }
    }

    private long DirectorySize() => new DirectoryInfo(_directory).GetFiles("*.jpg").Sum(f => f.Length);
}
