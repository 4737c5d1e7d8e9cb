using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>Leaves an invalid index behind the way production does: a concurrent build that fails part-way.</summary>
internal static class InvalidIndex
{
    /// <summary>
    /// Runs <paramref name="createConcurrently"/> (a <c>CREATE INDEX CONCURRENTLY</c> on <c>gallery.image_gallery</c>, or on a
    /// model's partition of <c>gallery.image_embeddings</c>) while another transaction holds a row lock on both, with a short lock timeout: the build registers the
    /// index, then gives up waiting for the writer, and the index stays with <c>indisvalid = false</c>.
    /// </summary>
    public static async Task CreateAsync(TestDatabase database, string createConcurrently)
    {
        await using var writer = new NpgsqlConnection(database.ConnectionString);
        await writer.OpenAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand(
            """
            UPDATE gallery.image_gallery SET path = path WHERE id = (SELECT min(id) FROM gallery.image_gallery);
            DO $lock$
            BEGIN
              IF to_regclass('gallery.image_embeddings') IS NOT NULL THEN
                UPDATE gallery.image_embeddings SET embedded_at = embedded_at
                WHERE (model_id, image_id) = (SELECT e.model_id, e.image_id FROM gallery.image_embeddings e ORDER BY 1, 2 LIMIT 1);
              END IF;
            END;
            $lock$;
            """, writer, transaction))
        {
            await update.ExecuteNonQueryAsync();
        }

        await using var builder = new NpgsqlConnection(database.ConnectionString);
        await builder.OpenAsync();
        await using (var timeouts = new NpgsqlCommand("SET lock_timeout = '300ms'; SET statement_timeout = '5s'", builder))
        {
            await timeouts.ExecuteNonQueryAsync();
        }

        await using var create = new NpgsqlCommand(createConcurrently, builder);
        var failure = await Record.ExceptionAsync(() => create.ExecuteNonQueryAsync());
        await transaction.RollbackAsync();
        Assert.IsType<PostgresException>(failure);
    }
}
