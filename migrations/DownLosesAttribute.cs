namespace DbFirst.Migrations;

/// <summary>
/// Declares data a migration's <c>Down()</c> destroys. <c>dbfirst migrate down</c> runs <see cref="CountSql"/> for
/// every step it would roll back and refuses, naming the counts, unless <c>--force</c> is given.
/// </summary>
/// <param name="what">What is lost, as a count reads it: <c>"rows of gallery.image_gallery"</c>.</param>
/// <param name="countSql">Returns one number, how much of it there is now; 0 means the step loses nothing.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DownLosesAttribute(string what, string countSql) : Attribute
{
    /// <summary>What is lost, e.g. <c>rows of gallery.image_gallery</c>.</summary>
    public string What { get; } = what;

    /// <summary>A query returning how much of <see cref="What"/> exists now.</summary>
    public string CountSql { get; } = countSql;
}
