using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Installs pgvector and the <c>gallery</c> schema that holds everything DbFirst owns.</summary>
/// <remarks>
/// pgvector is not a trusted extension: on the local cluster the superuser step of <c>scripts/db.sh</c> has installed
/// it already (the template database holds it), so for the non-superuser owner <c>IF NOT EXISTS</c> makes Up a no-op.
/// </remarks>
[Migration(1, "Install the vector extension and create schema gallery")]
public sealed class CreateVectorExtension : Migration
{
    /// <inheritdoc />
    public override void Up()
    {
        Execute.Sql("CREATE EXTENSION IF NOT EXISTS vector;");
        // The runner's version table usually created the schema already; a preview run has not.
        Execute.Sql("CREATE SCHEMA IF NOT EXISTS gallery;");
    }

    /// <inheritdoc />
    public override void Down()
    {
        // The schema stays: it holds the version table until the runner itself removes it at version 0.
        // Only an extension this login installed is removed: one the superuser step installed stays, as it was before Up.
        Execute.Sql(OwnedExtension.DropIfOwned("vector"));
    }
}
