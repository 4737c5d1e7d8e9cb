using Npgsql;

namespace DbFirst.Indexing;

/// <summary>The two ways index management runs SQL: DDL without a time limit, and single values.</summary>
internal static class IndexSql
{
    /// <summary>Runs <paramref name="sql"/> with no command timeout: an index build takes as long as it takes.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The first column of the first row; <see langword="default"/> when none or NULL.</summary>
    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? default! : (T)value;
    }
}
