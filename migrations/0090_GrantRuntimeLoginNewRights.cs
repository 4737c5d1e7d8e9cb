using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Grants the runtime login <c>dbfirst_app</c> what it needs on the objects added after version 40 (the prune log and
/// ingest roots, the describe and re-embed requests, filling the stored neighbours), and lets a re-embed request clear the retry back-off.
/// </summary>
[Migration(90, "Grant dbfirst_app the prune tables, the request functions and fill_neighbours; request_reembed clears the back-off")]
public sealed class GrantRuntimeLoginNewRights : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0090_runtime_login_catch_up.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        REVOKE ALL ON gallery.ingest_roots, gallery.prune_log FROM dbfirst_app;
        REVOKE EXECUTE ON FUNCTION gallery.request_description(bigint), gallery.request_reembed(bigint), gallery.fill_neighbours(int) FROM dbfirst_app;
        CREATE OR REPLACE FUNCTION gallery.request_reembed(image_id bigint)
        RETURNS boolean
        LANGUAGE sql
        VOLATILE
        SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $$
          UPDATE gallery.image_gallery
             SET embedding = NULL, embedding_model = NULL, embedded_at = NULL, embed_attempts = 0,
                 embed_error = NULL, embed_error_permanent = false, embed_failed_at = NULL
           WHERE id = image_id
          RETURNING true;
        $$;
        """);
}
