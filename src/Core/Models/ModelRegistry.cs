using Npgsql;

namespace DbFirst.Models;

/// <summary>
/// The model lifecycle a DBA drives (<c>dbfirst model …</c>): stage, promote, rollback, drop. Each step is one call of
/// a function of migration 105 (sql/0105_model_lifecycle.sql), which checks and changes the registry in one
/// transaction, so psql and the runner follow the same rules. Run as the owner: the functions are granted to no one else.
/// </summary>
internal sealed class ModelRegistry(NpgsqlDataSource dataSource)
{
    private const string ListSql = """
        SELECT c.model_id, c.name, c.state, c.dimension, c.embedded, c.total, c.index_name, m.source, m.layout,
               CASE WHEN c.index_name IS NOT NULL THEN gallery.index_precision(c.model_id) END
        FROM gallery.model_coverage() AS c
        JOIN gallery.clip_models AS m ON m.id = c.model_id
        ORDER BY CASE c.state WHEN 'active' THEN 0 WHEN 'staged' THEN 1 ELSE 2 END, m.retired_at DESC NULLS LAST, c.model_id
        """;

    private const string Columns = "id, name, dimension, source, layout, state";

    /// <summary>Every registered model with its exact coverage, active first, then staged, then retired (latest first).</summary>
    public async Task<IReadOnlyList<ModelCoverage>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(ListSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var models = new List<ModelCoverage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            models.Add(new ModelCoverage(
                reader.GetInt32(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4), reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetString(8),
                reader.IsDBNull(9) ? null : reader.GetString(9)));
        }

        return models;
    }

    /// <summary>Registers <paramref name="model"/> as the staged model and creates its storage; embed jobs then backfill it.</summary>
    public Task<RegisteredModel> StageAsync(ModelRegistration model, CancellationToken cancellationToken = default) =>
        CallAsync($"SELECT {Columns} FROM gallery.stage_model($1, $2, $3, $4)", cancellationToken,
            model.Name, model.Dimension, model.Source, model.Layout);

    /// <summary>Makes the staged model active (the active one retired) when its coverage and index allow it.</summary>
    public Task<RegisteredModel> PromoteAsync(double minCoverage, CancellationToken cancellationToken = default) =>
        CallAsync($"SELECT {Columns} FROM gallery.promote_model($1)", cancellationToken, minCoverage);

    /// <summary>
    /// Whether the active model's index has a tuned search setting in force (<c>dbfirst index tune</c>); after a promote,
    /// whether the new model was tuned before it (<c>--model NAME</c>): each model's setting follows it (migration 111).
    /// </summary>
    public async Task<bool> ActiveModelTunedAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM gallery.settings WHERE key IN ('hnsw.ef_search', 'ivfflat.probes'))");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Makes the most recently retired model whose embeddings are kept active again; returns it.</summary>
    public Task<RegisteredModel> RollbackAsync(CancellationToken cancellationToken = default) =>
        CallAsync($"SELECT {Columns} FROM gallery.rollback_model()", cancellationToken);

    /// <summary>Drops a retired model's embeddings, index and registration; returns how many embeddings went.</summary>
    public async Task<long> DropAsync(string name, bool force, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var command = dataSource.CreateCommand("SELECT gallery.drop_model($1, $2)");
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = force });
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException e) when (IsRefusal(e))
        {
            throw new GalleryException(e.MessageText, e);
        }
    }

    // The lifecycle functions refuse with these codes and a message written for the operator; anything else is a real error.
    private static bool IsRefusal(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState or PostgresErrorCodes.UndefinedObject or PostgresErrorCodes.LockNotAvailable;

    private async Task<RegisteredModel> CallAsync(string sql, CancellationToken cancellationToken, params object[] arguments)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var argument in arguments)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = argument });
        }

        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"{sql} returned no row");
            }

            return new RegisteredModel(
                reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5));
        }
        catch (PostgresException e) when (IsRefusal(e))
        {
            throw new GalleryException(e.MessageText, e);
        }
    }
}
