namespace DbFirst.Database;

/// <summary>Quotes identifiers for SQL that cannot take them as parameters (DDL, role names).</summary>
internal static class PgIdentifier
{
    /// <summary><paramref name="identifier"/> in double quotes, embedded quotes doubled, as <c>quote_ident</c> does.</summary>
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
