using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace DbFirst.Files;

/// <summary>
/// The few Linux system calls .NET does not expose: <c>statx</c> (file kind, device and inode, with or without
/// following a link) and <c>open</c> with <c>O_NONBLOCK</c>, so opening a FIFO returns at once instead of waiting
/// for a writer. <c>statx</c> is used rather than <c>stat</c> because its structure is the same on every architecture.
/// </summary>
internal static partial class NativeFile
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;

    // Identical on x86-64 and arm64 (asm-generic values).
    private const int ORdOnly = 0;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    private const int ENoEnt = 2;
    private const int ENotDir = 20;
    private const int EIntr = 4;

    /// <summary>The file at <paramref name="path"/>, the link itself when it is one; null when nothing is there.</summary>
    /// <exception cref="IOException">The entry could not be examined (permission, I/O error): it is not known to be absent.</exception>
    public static FileStatus? LStat(string path) => Stat(AtFdCwd, path, AtSymlinkNoFollow);

    /// <summary>The file at <paramref name="path"/>, links followed; null when nothing is there (a dangling link included).</summary>
    public static FileStatus? StatFollowing(string path) => Stat(AtFdCwd, path, 0);

    /// <summary>The file an open handle refers to.</summary>
    public static FileStatus FStat(SafeFileHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return Stat((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath)
                ?? throw new IOException("fstat found no file behind an open handle");
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Opens <paramref name="path"/> for reading without ever blocking in <c>open</c> (links are followed).</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="IOException">Any other failure.</exception>
    public static SafeFileHandle OpenReadNonBlocking(string path)
    {
        int fd;
        do
        {
            fd = Open(path, ORdOnly | ONonBlock | OCloExec);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EIntr);

        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENoEnt or ENotDir)
            {
                throw new FileNotFoundException($"file not found: {path}", path);
            }

            throw new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static FileStatus? Stat(int directoryFd, string path, int flags)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        int result;
        do
        {
            result = Statx(directoryFd, path, flags, StatxBasicStats, ref MemoryMarshal.GetReference(buffer));
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == EIntr);

        if (result < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENoEnt or ENotDir)
            {
                return null;
            }

            throw new IOException($"cannot examine {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        // struct statx (linux/stat.h): stx_mode u16 @28, stx_ino u64 @32, stx_size u64 @40, stx_blocks u64 @48,
        // stx_dev_major/minor u32 @136/@140.
        var mode = BinaryPrimitives.ReadUInt16LittleEndian(buffer[28..]);
        var inode = BinaryPrimitives.ReadUInt64LittleEndian(buffer[32..]);
        var size = BinaryPrimitives.ReadInt64LittleEndian(buffer[40..]);
        var blocks = BinaryPrimitives.ReadInt64LittleEndian(buffer[48..]);
        var major = BinaryPrimitives.ReadUInt32LittleEndian(buffer[136..]);
        var minor = BinaryPrimitives.ReadUInt32LittleEndian(buffer[140..]);
        return new FileStatus(KindOf(mode), MakeDev(major, minor), inode, size, blocks * 512);
    }

    private static FileKind KindOf(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xA000 => FileKind.Symlink,
        0x1000 => FileKind.Fifo,
        0xC000 => FileKind.Socket,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        _ => FileKind.Other,
    };

    // glibc's makedev, so the number matches what `stat -c %d` prints.
    private static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xfffff000) << 32) | ((ulong)(major & 0xfff) << 8) | ((ulong)(minor & 0xffffff00) << 12) | (minor & 0xff);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, ref byte buffer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
