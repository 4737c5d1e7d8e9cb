namespace DbFirst.Search;

/// <summary>Optional restrictions every search accepts; the SQL functions apply them inside the index scan.</summary>
/// <param name="Folder">Only images under this folder (whole folder names: <c>/a/b</c> does not match <c>/a/bc/x.jpg</c>).</param>
/// <param name="TakenFrom">Only images taken at or after this time.</param>
/// <param name="TakenTo">Only images taken before this time.</param>
public sealed record SearchFilter(string? Folder = null, DateTimeOffset? TakenFrom = null, DateTimeOffset? TakenTo = null);
