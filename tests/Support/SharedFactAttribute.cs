namespace DbFirst.Tests.Support;

/// <summary>A fact that needs <c>../shared</c>; it is skipped with a reason where that folder is absent.</summary>
internal sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute()
    {
        if (TestPaths.SharedDirectory is null)
        {
            Skip = "../shared/clip is absent beside the repository";
        }
    }
}
