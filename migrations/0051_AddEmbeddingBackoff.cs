using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>Adds <c>embed_next_attempt_at</c>: transient embedding failures back off and retry instead of counting to a limit.</summary>
[Migration(51, "Add image_gallery.embed_next_attempt_at and reset it on content change")]
public sealed class AddEmbeddingBackoff : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0051_embedding_backoff.sql");

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        CREATE OR REPLACE FUNCTION gallery.reset_embedding_on_content_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.content_sha256 IS DISTINCT FROM OLD.content_sha256 THEN
            NEW.embedding             := NULL;
            NEW.embedding_model       := NULL;
            NEW.embedded_at           := NULL;
            NEW.embed_attempts        := 0;
            NEW.embed_error           := NULL;
            NEW.embed_error_permanent := false;
            NEW.embed_failed_at       := NULL;
          END IF;
          RETURN NEW;
        END $$;
        ALTER TABLE gallery.image_gallery DROP COLUMN IF EXISTS embed_next_attempt_at;
        """);
}
