using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Lets the runtime login <c>dbfirst_app</c> lock the rows of <c>gallery.embedding_pending</c> it claims (a row lock
/// needs UPDATE), which migration 100 left out: embedding as the runtime login failed.
/// </summary>
[Migration(106, "Grant dbfirst_app UPDATE on the embedding queue, for the claims' row locks")]
public sealed class GrantRuntimeLoginPendingClaims : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0106_runtime_login_claims_pending.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql("REVOKE UPDATE ON gallery.embedding_pending FROM dbfirst_app;");
}
