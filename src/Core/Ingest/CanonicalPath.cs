using System.Runtime.InteropServices;

namespace DbFirst.Ingest;

/// <summary>
/// The canonical path of a directory (every link resolved, no <c>.</c> or <c>..</c>): its identity when the walk
/// follows links, so a link back to an ancestor, or two links to one folder, never make the walk go round.
/// </summary>
internal static class CanonicalPath
{
    /// <summary>Resolves <paramref name="path"/>, or returns null when a link in it dangles or a component is unreadable.</summary>
    public static string? TryResolve(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                var info = new DirectoryInfo(path);
                return Path.GetFullPath(info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName);
            }
            catch (IOException)
            {
                return null;
            }
        }

        // realpath(3) resolves every component the way the kernel does; .NET has no managed equivalent.
        var nulTerminated = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var resolved = RealPath(nulTerminated, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    // DllImport with a byte array needs no unsafe code, which LibraryImport would.
    [DllImport("libc", EntryPoint = "realpath")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern IntPtr RealPath(byte[] path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern void Free(IntPtr pointer);
}
