using System.Data;

namespace DbFirst.Migrations;

/// <summary>
/// What a migration that builds an index <c>CONCURRENTLY</c> needs around <c>CREATE INDEX … IF NOT EXISTS</c>: a failed
/// or interrupted concurrent build leaves an invalid index behind (<c>pg_index.indisvalid = false</c>), which
/// <c>IF NOT EXISTS</c> would take for a finished one, so a re-run would record success over an index no query can use.
/// </summary>
internal static class InvalidIndexes
{
    /// <summary>Drops <paramref name="qualifiedName"/> concurrently if it exists and is invalid.</summary>
    public static void DropIfInvalid(IDbConnection connection, IDbTransaction? transaction, string qualifiedName)
    {
        using var check = connection.CreateCommand();
        check.Transaction = transaction;
        check.CommandText = $"SELECT NOT indisvalid FROM pg_catalog.pg_index WHERE indexrelid = to_regclass('{qualifiedName}')";
        if (check.ExecuteScalar() is not true)
        {
            return;
        }

        using var drop = connection.CreateCommand();
        drop.Transaction = transaction;
        // DROP INDEX CONCURRENTLY waits for running queries on the table; that wait has no fixed bound.
        drop.CommandTimeout = 0;
        drop.CommandText = $"DROP INDEX CONCURRENTLY IF EXISTS {qualifiedName}";
        drop.ExecuteNonQuery();
    }

    /// <summary>SQL that fails the migration unless <paramref name="qualifiedName"/> exists and is valid.</summary>
    public static string RequireValidSql(string qualifiedName) => $"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = to_regclass('{qualifiedName}') AND indisvalid) THEN
            RAISE EXCEPTION 'index {qualifiedName} is missing or invalid after its concurrent build; run the migration again';
          END IF;
        END $$;
        """;
}
