using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Creates <c>gallery.describe_batches</c> and <c>gallery.describe_batch_items</c>: describe work submitted as Message Batches.</summary>
[DownLoses("paid describe batches not yet collected", "SELECT count(*) FROM gallery.describe_batches WHERE status <> 'collected'")]
[Migration(32, "Create tables gallery.describe_batches and gallery.describe_batch_items")]
public sealed class CreateDescribeBatches : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0032_describe_batches.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("DROP TABLE IF EXISTS gallery.describe_batch_items; DROP TABLE IF EXISTS gallery.describe_batches;");
}
