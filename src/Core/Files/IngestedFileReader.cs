using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using SkiaSharp;

namespace DbFirst.Files;

/// <summary>
/// The one way every path that reads an ingested file opens it (embedding, Claude's image preparation, HTML
/// thumbnails). It never blocks on a FIFO (<c>lstat</c> first, then an <c>O_NONBLOCK</c> open whose <c>fstat</c> must
/// be the same regular file), refuses links swapped in after ingest, files over a size cap and files that are no
/// longer the ingested one, and bounds the read with a timeout. Thread-safe.
/// </summary>
internal sealed class IngestedFileReader
{
    private const int ReadChunk = 1024 * 1024;

    private readonly FileReadOptions _options;

    public IngestedFileReader(FileReadOptions? options = null)
    {
        _options = (options ?? new FileReadOptions()).Validate();
    }

    /// <summary>Reads the whole file into native memory (what the decoder takes) after every check passed.</summary>
    /// <exception cref="FileReadException">The file was refused or could not be read; its <see cref="FileReadException.Failure"/> says whether retrying helps.</exception>
    public SKData ReadData(IngestedFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        var expected = Examine(file);
        SafeFileHandle handle;
        try
        {
            handle = NativeFile.OpenReadNonBlocking(file.Path);
        }
        catch (FileNotFoundException exception)
        {
            throw new FileReadException(file.Path, "file not found", FileReadFailure.Transient, exception);
        }
        catch (IOException exception)
        {
            throw new FileReadException(file.Path, $"cannot open: {exception.Message}", FileReadFailure.Transient, exception);
        }

        // From here the handle belongs to the read, which may outlive a timeout: it disposes it itself.
        var read = Task.Factory.StartNew(
            () => ReadVerified(handle, expected, file),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        bool finished;
        try
        {
            finished = read.Wait(_options.ReadTimeout, cancellationToken);
        }
        catch (AggregateException aggregate) when (aggregate.InnerException is { } inner)
        {
            throw inner is FileReadException ? inner : new FileReadException(file.Path, $"cannot read: {inner.Message}", FileReadFailure.Transient, inner);
        }
        catch (OperationCanceledException)
        {
            DisposeWhenDone(read);
            throw;
        }

        if (!finished)
        {
            // A read stuck in the kernel (a hung network mount) cannot be interrupted; the row gets its error and the
            // batch goes on, and the data is freed whenever the read returns.
            DisposeWhenDone(read);
            throw new FileReadException(file.Path, $"read timed out after {_options.ReadTimeout.TotalSeconds:0.#} s", FileReadFailure.Transient);
        }

        return read.Result;
    }

    /// <summary>As <see cref="ReadData"/>, into a managed array.</summary>
    public byte[] ReadBytes(IngestedFile file, CancellationToken cancellationToken = default)
    {
        using var data = ReadData(file, cancellationToken);
        return data.ToArray();
    }

    // lstat before opening: a FIFO or a socket is refused without ever being opened.
    private FileStatus Examine(IngestedFile file)
    {
        FileStatus? entry;
        try
        {
            entry = NativeFile.LStat(file.Path);
            if (entry is { Kind: FileKind.Symlink })
            {
                if (!file.ViaSymlink)
                {
                    throw new FileReadException(file.Path, "a symbolic link now, not the file that was ingested", FileReadFailure.Permanent);
                }

                entry = NativeFile.StatFollowing(file.Path);
            }
        }
        catch (IOException exception) when (exception is not FileReadException)
        {
            throw new FileReadException(file.Path, $"cannot examine: {exception.Message}", FileReadFailure.Transient, exception);
        }

        if (entry is null)
        {
            throw new FileReadException(file.Path, "file not found", FileReadFailure.Transient);
        }

        if (entry.Kind != FileKind.Regular)
        {
            throw new FileReadException(file.Path, $"not a regular file ({Describe(entry.Kind)})", FileReadFailure.Permanent);
        }

        if (entry.Size > _options.MaxBytes)
        {
            throw new FileReadException(file.Path,
                $"{entry.Size / 1048576.0:F0} MB, over the {_options.MaxBytes / 1048576.0:F0} MB cap (Files:MaxBytes)", FileReadFailure.Permanent);
        }

        if (file.ByteSize is { } size && size != entry.Size)
        {
            throw new FileReadException(file.Path, $"changed since ingest ({entry.Size} bytes, ingested {size})", FileReadFailure.Changed);
        }

        return entry;
    }

    private SKData ReadVerified(SafeFileHandle handle, FileStatus expected, IngestedFile file)
    {
        using (handle)
        {
            var opened = NativeFile.FStat(handle);
            if (opened.Kind != FileKind.Regular || !opened.IsSameFileAs(expected))
            {
                throw new FileReadException(file.Path, "replaced while being opened", FileReadFailure.Transient);
            }

            var length = opened.Size;
            if (length > _options.MaxBytes)
            {
                throw new FileReadException(file.Path, $"grew over the {_options.MaxBytes / 1048576.0:F0} MB cap while being opened", FileReadFailure.Permanent);
            }

            var data = SKData.Create(length);
            try
            {
                var hash = _options.VerifyHash && file.Sha256 is not null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
                using (hash)
                {
                    long offset = 0;
                    while (offset < length)
                    {
                        var chunk = DataSpan(data, offset, (int)Math.Min(ReadChunk, length - offset));
                        var read = RandomAccess.Read(handle, chunk, offset);
                        if (read == 0)
                        {
                            throw new FileReadException(file.Path, "changed since ingest (shorter than when opened)", FileReadFailure.Changed);
                        }

                        hash?.AppendData(chunk[..read]);
                        offset += read;
                    }

                    if (hash is not null && !hash.GetHashAndReset().AsSpan().SequenceEqual(file.Sha256))
                    {
                        throw new FileReadException(file.Path, "changed since ingest (content hash differs)", FileReadFailure.Changed);
                    }
                }

                return data;
            }
            catch
            {
                data.Dispose();
                throw;
            }
        }
    }

    private static unsafe Span<byte> DataSpan(SKData data, long offset, int length) =>
        new((byte*)data.Data + offset, length);

    private static void DisposeWhenDone(Task<SKData> read) =>
        read.ContinueWith(
            finished =>
            {
                if (finished.IsCompletedSuccessfully)
                {
                    finished.Result.Dispose();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Fifo => "a FIFO",
        FileKind.Socket => "a socket",
        FileKind.Directory => "a directory",
        FileKind.CharacterDevice or FileKind.BlockDevice => "a device",
        FileKind.Symlink => "a symbolic link",
        _ => "a special file",
    };
}
