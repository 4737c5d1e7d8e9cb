using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Records the content hash each describe batch request was sent with, and keys <c>gallery.ask_cache</c> by
/// everything an answer was built from (model, question, k, each image's content hash and description).
/// </summary>
[Migration(55, "Record the content hash sent per describe batch item; key gallery.ask_cache by the images' content")]
public sealed class KeepClaudeOutputFresh : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0055_fresh_claude_output.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0055_fresh_claude_output_down.sql");
}
