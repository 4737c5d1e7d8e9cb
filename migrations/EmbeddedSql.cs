namespace DbFirst.Migrations;

/// <summary>Reads a <c>sql/*.sql</c> file embedded in this assembly, for migrations that must adapt a script before running it.</summary>
internal static class EmbeddedSql
{
    public static string Read(string fileName)
    {
        var name = $"DbFirst.Sql.{fileName}";
        using var stream = typeof(EmbeddedSql).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
