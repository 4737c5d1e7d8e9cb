namespace DbFirst.Tests.Support;

/// <summary>A theory that needs <c>../shared</c>; it is skipped with a reason where that folder is absent.</summary>
internal sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute()
    {
        if (TestPaths.SharedDirectory is null)
        {
            Skip = "../shared/clip is absent beside the repository";
        }
    }
}
