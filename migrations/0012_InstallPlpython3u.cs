using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Installs PL/Python, which lets <c>gallery.search</c> ask the <c>dbfirst serve</c> host for text embeddings.</summary>
/// <remarks>
/// Needs Debian's <c>postgresql-plpython3-15</c> (scripts/setup.sh installs it) and a superuser: on the local cluster
/// the superuser step of <c>scripts/db.sh</c> installed it already, so <c>IF NOT EXISTS</c> makes Up a no-op for the owner.
/// </remarks>
[Migration(12, "Install the plpython3u language")]
public sealed class InstallPlpython3u : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.Sql("CREATE EXTENSION IF NOT EXISTS plpython3u;");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(OwnedExtension.DropIfOwned("plpython3u"));
}
