namespace DbFirst.Migrations;

/// <summary>SQL that removes an extension only when the migrating login owns it, i.e. when a migration installed it.</summary>
internal static class OwnedExtension
{
    /// <summary>
    /// Drops <paramref name="name"/> if the current user owns it. A superuser-installed extension (the superuser step of
    /// <c>scripts/db.sh</c>) cannot be dropped by the non-superuser owner and was there before Up, so it stays.
    /// </summary>
    public static string DropIfOwned(string name) =>
        $"""
        DO $drop$
        BEGIN
          IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = '{name}' AND extowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)) THEN
            DROP EXTENSION {name};
          END IF;
        END;
        $drop$;
        """;
}
