using System.Data;
using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Creates <c>gallery.search(query, k)</c>: text-to-image search from plain SQL, with text embeddings from
/// <c>dbfirst serve</c> cached in <c>gallery.text_embeddings</c>.
/// </summary>
/// <remarks>
/// The released script creates <c>gallery.fetch_text_embedding</c> in plpython3u, which only a superuser may do.
/// Run by the non-superuser owner, that one function is created as a plpgsql stub that reports the encoder
/// unavailable; migration 42 replaces the whole path with <c>gallery_encoder.fetch</c>, which the superuser step installs.
/// </remarks>
[Migration(13, "Create gallery.text_embeddings and function gallery.search (text to image)")]
public sealed class CreateTextSearch : Migration
{
    private const string Script = "0013_text_search.sql";
    private const string FetchStart = "CREATE FUNCTION gallery.fetch_text_embedding(";
    private const string FetchEnd = "$py$;";

    private const string FetchStub =
        """
        CREATE FUNCTION gallery.fetch_text_embedding(
          url        text,
          query      text,
          timeout_ms int,
          OUT model     text,
          OUT embedding real[],
          OUT failure   text)
        LANGUAGE plpgsql
        VOLATILE
        AS $fn$
        BEGIN
          model := NULL;
          embedding := NULL;
          failure := 'is not reachable before migration 42 (apply it with dbfirst migrate up)';
        END;
        $fn$;
        """;

    /// <inheritdoc />
    public override void Up()
    {
        Execute.WithConnection((connection, transaction) =>
        {
            var script = EmbeddedSql.Read(Script);
            if (!IsSuperuser(connection, transaction))
            {
                var start = script.IndexOf(FetchStart, StringComparison.Ordinal);
                var end = script.IndexOf(FetchEnd, start, StringComparison.Ordinal) + FetchEnd.Length;
                script = string.Concat(script.AsSpan(0, start), FetchStub, script.AsSpan(end));
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = script;
            command.ExecuteNonQuery();
        });
    }

    /// <inheritdoc />
    public override void Down() => Execute.Sql(
        """
        DROP FUNCTION IF EXISTS gallery.search(text, int, text, timestamptz, timestamptz);
        DROP FUNCTION IF EXISTS gallery.text_embedding(text);
        DROP FUNCTION IF EXISTS gallery.fetch_text_embedding(text, text, int);
        DROP TABLE IF EXISTS gallery.text_embeddings;
        DELETE FROM gallery.settings WHERE key = 'embed_model';
        """);

    private static bool IsSuperuser(IDbConnection connection, IDbTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user";
        return command.ExecuteScalar() is true;
    }
}
