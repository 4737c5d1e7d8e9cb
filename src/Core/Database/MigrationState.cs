namespace DbFirst.Database;

/// <summary>One migration as <c>dbfirst migrate list</c> shows it.</summary>
/// <param name="Version">The migration's version number.</param>
/// <param name="Description">What the migration does.</param>
/// <param name="AppliedOn">When it was applied, or <see langword="null"/> while it is pending.</param>
public sealed record MigrationState(long Version, string Description, DateTime? AppliedOn)
{
    /// <summary>Whether the migration has been applied to the database.</summary>
    public bool IsApplied => AppliedOn is not null;
}
