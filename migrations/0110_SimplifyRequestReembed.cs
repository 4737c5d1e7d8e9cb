using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// <c>gallery.request_reembed</c> deletes the image's embeddings by image id alone: migration 100's DELETE joined
/// <c>gallery.clip_models</c> for nothing. Same behaviour, same grants.
/// </summary>
[Migration(110, "request_reembed deletes by image id without joining clip_models")]
public sealed class SimplifyRequestReembed : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0110_request_reembed_without_join.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0110_request_reembed_without_join_down.sql");
}
