using System.Diagnostics;
using System.Security.Cryptography;
using DbFirst.Files;
using DbFirst.Tests.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Files;

public sealed class IngestedFileReaderTests : IDisposable
{
    private readonly ScratchFolder _folder = new();
    private readonly IngestedFileReader _reader = new(new FileReadOptions { ReadTimeout = TimeSpan.FromSeconds(5) });

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void TheIngestedFile_IsReadWhole()
    {
        var bytes = TestImages.Jpeg(40, 30, seed: 3);
        var path = _folder.Write("a.jpg", bytes);

        var read = _reader.ReadBytes(new IngestedFile(path, bytes.Length, SHA256.HashData(bytes)));

        Assert.Equal(bytes, read);
    }

    [Fact]
    public void SameSizeOtherContent_IsChanged()
    {
        var path = _folder.Write("a.bin", [1, 2, 3, 4]);

        var error = Assert.Throws<FileReadException>(() => _reader.ReadBytes(new IngestedFile(path, 4, SHA256.HashData(new byte[] { 1, 2, 3, 5 }))));

        Assert.Equal(FileReadFailure.Changed, error.Failure);
        Assert.Equal("changed since ingest (content hash differs)", error.Reason);
    }

    [Fact]
    public void Fifo_RefusedAtOnce_Permanently()
    {
        var path = Path.Combine(_folder.Root, "pipe.jpg");
        using (var mkfifo = Process.Start("mkfifo", [path])!)
        {
            mkfifo.WaitForExit();
        }

        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<FileReadException>(() => _reader.ReadBytes(new IngestedFile(path)));

        Assert.Equal(FileReadFailure.Permanent, error.Failure);
        Assert.Equal("not a regular file (a FIFO)", error.Reason);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Directory_AndOversizedFile_ArePermanent_MissingFileTransient()
    {
        var directory = _folder.CreateDirectory("folder.jpg");
        var large = _folder.Write("large.jpg", new byte[2048]);
        var small = new IngestedFileReader(new FileReadOptions { MaxBytes = 1024 });

        Assert.Equal("not a regular file (a directory)", Assert.Throws<FileReadException>(() => _reader.ReadBytes(new IngestedFile(directory))).Reason);
        Assert.Equal(FileReadFailure.Permanent, Assert.Throws<FileReadException>(() => small.ReadBytes(new IngestedFile(large))).Failure);
        var missing = Assert.Throws<FileReadException>(() => _reader.ReadBytes(new IngestedFile(Path.Combine(_folder.Root, "gone.jpg"))));
        Assert.Equal(FileReadFailure.Transient, missing.Failure);
        Assert.Equal("file not found", missing.Reason);
    }

    [Fact]
    public void Symlink_ReadOnlyWhenIngestedThroughOne()
    {
        var target = _folder.Write("target.jpg", [9, 9, 9]);
        var link = _folder.Link("link.jpg", target);

        Assert.Equal([9, 9, 9], _reader.ReadBytes(new IngestedFile(link, 3, ViaSymlink: true)));
        var swapped = Assert.Throws<FileReadException>(() => _reader.ReadBytes(new IngestedFile(link, 3)));
        Assert.Equal(FileReadFailure.Permanent, swapped.Failure);
    }

    [Fact]
    public void Statx_DeviceAndInode_MatchWhatStatPrints()
    {
        var path = _folder.Write("a.bin", [1]);
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%d %i %s", path]) { RedirectStandardOutput = true })!;
        var expected = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();

        var status = NativeFile.LStat(path)!;

        Assert.Equal(expected, $"{status.Device} {status.Inode} {status.Size}");
        Assert.Equal(FileKind.Regular, status.Kind);
        Assert.Null(NativeFile.LStat(Path.Combine(_folder.Root, "nothing")));
    }
}
