namespace DbFirst.Files;

/// <summary>What a directory entry is, from <c>lstat</c>/<c>fstat</c>'s mode bits.</summary>
internal enum FileKind
{
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharacterDevice,
    BlockDevice,
    Other,
}
