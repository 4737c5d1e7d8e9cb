using Npgsql;

namespace DbFirst.Database;

/// <summary>Builds the one <see cref="NpgsqlDataSource"/> a process uses, with pgvector's types mapped.</summary>
public static class GalleryDataSource
{
    /// <summary>Creates a data source for <paramref name="connectionString"/>; build it after migrations so the vector type exists.</summary>
    public static NpgsqlDataSource Create(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        return builder.Build();
    }

    /// <summary>Describes where a connection string points, without its password, for messages.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            var csb = new NpgsqlConnectionStringBuilder(connectionString);
            return $"{csb.Host}:{csb.Port}/{csb.Database} as {csb.Username}";
        }
        catch (ArgumentException)
        {
            return "(unparseable connection string)";
        }
    }
}
