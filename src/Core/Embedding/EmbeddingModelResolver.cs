using Npgsql;
using DbFirst.Models;

namespace DbFirst.Embedding;

/// <summary>
/// Finds the registry row an embedder writes for, by the name the embedder reports: the active or the staged model.
/// In a gallery with no model yet, the first embedder registers its model as the active one
/// (<c>gallery.ensure_active_model</c>, under the registry's advisory lock, so two first embedders agree).
/// </summary>
internal static class EmbeddingModelResolver
{
    private const string ByNameSql = "SELECT id, name, dimension, source, layout, state FROM gallery.clip_models WHERE name = $1";

    private const string EnsureActiveSql = "SELECT id, name, dimension, source, layout, state FROM gallery.ensure_active_model($1, $2)";

    /// <summary>The active or staged model <paramref name="embedder"/> embeds for; a <see cref="GalleryException"/> naming the mismatch otherwise.</summary>
    public static async Task<RegisteredModel> ResolveAsync(NpgsqlDataSource dataSource, IImageEmbedder embedder, CancellationToken cancellationToken = default)
    {
        var model = await ReadAsync(dataSource, ByNameSql, [embedder.ModelName], cancellationToken)
            ?? await ReadAsync(dataSource, EnsureActiveSql, [embedder.ModelName, embedder.Dimension], cancellationToken)
            ?? throw new InvalidOperationException("gallery.ensure_active_model returned no row");
        if (model.Name != embedder.ModelName)
        {
            throw new GalleryException(
                $"the gallery's active model is {model.Name} ({model.Dimension}-d), not {embedder.ModelName}: embed with that model (--model), or stage this one with `dbfirst model stage DIR`");
        }

        if (model.State == "retired")
        {
            throw new GalleryException(
                $"model {model.Name} is retired: embed with the active model, or make it current again (`dbfirst model rollback` or `dbfirst model stage DIR`)");
        }

        return Check(model, embedder);
    }

    /// <summary>
    /// <paramref name="model"/> when <paramref name="embedder"/> is that model (same name and dimension); a
    /// <see cref="GalleryException"/> otherwise, since its vectors would be filed under another model.
    /// </summary>
    public static RegisteredModel Check(RegisteredModel model, IImageEmbedder embedder)
    {
        if (model.Name != embedder.ModelName || model.Dimension != embedder.Dimension)
        {
            throw new GalleryException(
                $"the model loaded is {embedder.ModelName} ({embedder.Dimension}-d), but the registry's {model.State} model is {model.Name} ({model.Dimension}-d): load the registered model's files");
        }

        return model;
    }

    private static async Task<RegisteredModel?> ReadAsync(NpgsqlDataSource dataSource, string sql, object[] arguments, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var argument in arguments)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = argument });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new RegisteredModel(
            reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.GetString(5));
    }
}
