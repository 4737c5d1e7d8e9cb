using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>Leaves an invalid index behind the way production does: a concurrent build that fails part-way.</summary>
internal static class InvalidIndex
{
    /// <summary>Locks a row of <c>gallery.image_gallery</c>.</summary>
    public const string ImageRowLock = "UPDATE gallery.image_gallery SET path = path WHERE id = (SELECT min(id) FROM gallery.image_gallery)";

    /// <summary>Locks a row of the first model's partition of <c>gallery.image_embeddings</c>.</summary>
    public const string FirstModelRowLock =
        "UPDATE gallery.image_embeddings_m1 SET embedded_at = embedded_at WHERE image_id = (SELECT min(image_id) FROM gallery.image_embeddings_m1)";

    /// <summary>
    /// Runs <paramref name="createConcurrently"/> (a <c>CREATE INDEX CONCURRENTLY</c>) while another
    /// transaction holds a row lock on the indexed table (taken by <paramref name="lockRow"/>), with a short lock timeout: the build registers the
    /// index, then gives up waiting for the writer, and the index stays with <c>indisvalid = false</c>.
    /// </summary>
    public static async Task CreateAsync(TestDatabase database, string createConcurrently, string lockRow = ImageRowLock)
    {
        await using var writer = new NpgsqlConnection(database.ConnectionString);
        await writer.OpenAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var update = new NpgsqlCommand(lockRow, writer, transaction))
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
