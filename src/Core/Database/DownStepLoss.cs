namespace DbFirst.Database;

/// <summary>Something a <c>migrate down</c> step would destroy, as its migration declares it.</summary>
/// <param name="Version">The migration whose <c>Down()</c> destroys it.</param>
/// <param name="What">What is lost, e.g. <c>rows of gallery.image_gallery</c>.</param>
/// <param name="Count">How much of it exists now.</param>
public sealed record DownStepLoss(long Version, string What, long Count)
{
    /// <inheritdoc />
    public override string ToString() => $"{Count:N0} {What} (migration {Version})";
}
