namespace DbFirst.Migrations;

/// <summary>
/// Declares cluster roles a migration's <c>Down()</c> may drop. Their memberships (which <c>DROP ROLE</c> would
/// remove, and which <c>Up()</c> cannot know to restore) count as a loss that <c>dbfirst migrate down</c> refuses
/// without <c>--force</c>; with it, a role that has members is kept (recreated if the step dropped it) with every
/// membership, so a later <c>migrate up</c> finds them as they were.
/// </summary>
/// <param name="roles">The roles, by name.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class DownDropsRolesAttribute(params string[] roles) : Attribute
{
    /// <summary>The roles the step may drop.</summary>
    public IReadOnlyList<string> Roles { get; } = roles;
}
