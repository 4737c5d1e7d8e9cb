namespace DbFirst;

/// <summary>
/// A failure whose message is written for the person at the terminal: the runner prints it as one line,
/// without a stack trace, and exits with code 1.
/// </summary>
public sealed class GalleryException : Exception
{
    /// <summary>Creates the exception with a complete, user-facing <paramref name="message"/>.</summary>
    public GalleryException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a user-facing <paramref name="message"/> and its cause.</summary>
    public GalleryException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
