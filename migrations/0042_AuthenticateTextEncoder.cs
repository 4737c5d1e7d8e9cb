using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// The SQL-to-encoder path trusts only <c>dbfirst serve</c>: an encoder key, <c>gallery.text_embedding</c> through the
/// superuser-installed <c>gallery_encoder.fetch</c> (loopback only, authenticated, bounded), <c>embed_url</c> the owner's.
/// </summary>
[Migration(42, "Authenticate the text encoder: encoder key, owner-only embed_url, gallery_encoder.fetch")]
public sealed class AuthenticateTextEncoder : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0042_encoder_path.sql");

    /// <inheritdoc />
    public override void Down() => Execute.EmbeddedScript("0042_encoder_path_down.sql");
}
