namespace DbFirst.Claude;

/// <summary>An image that cannot be sent to Claude however often it is tried: undecodable, empty or too large to decode.</summary>
internal sealed class ImagePreparationException : Exception
{
    public ImagePreparationException(string message) : base(message)
    {
    }

    public ImagePreparationException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
