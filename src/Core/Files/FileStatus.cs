namespace DbFirst.Files;

/// <summary>The facts <c>statx</c> gives about one file: its kind, where it lives and how long it is.</summary>
/// <param name="Kind">Regular file, directory, link, FIFO, …</param>
/// <param name="Device">The filesystem's device number (major and minor packed as <c>makedev</c> does).</param>
/// <param name="Inode">The inode within that filesystem.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="AllocatedBytes">Storage the file occupies (512-byte blocks): below <paramref name="Size"/> for a sparse file, such as a shared memory segment whose pages were not all touched.</param>
internal sealed record FileStatus(FileKind Kind, ulong Device, ulong Inode, long Size, long AllocatedBytes = 0)
{
    /// <summary>Whether both describe the same file (same device and inode).</summary>
    public bool IsSameFileAs(FileStatus other) => Device == other.Device && Inode == other.Inode;
}
