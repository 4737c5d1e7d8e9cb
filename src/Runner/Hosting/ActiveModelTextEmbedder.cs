using DbFirst.Clip;
using DbFirst.Models;
using DbFirst.Search;
using Npgsql;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The text encoder of <c>serve</c>'s <c>/embed/text</c>, which <c>gallery.search</c> calls for text it has not cached:
/// it encodes with the registry's active model, read on each call (one indexed row, beside the round trip that
/// brought the text), so that after <c>dbfirst model promote</c> or <c>rollback</c> the next uncached search gets the
/// new model's vector without a restart. The process's own model (<c>--model</c>, <c>Clip__ModelPath</c>) serves when it
/// is the active one or the active one was registered without a folder; another active model is loaded from its
/// registered folder once and kept. When that cannot be done (files missing, or not the registered model) it keeps
/// answering with the model it holds, and <c>gallery.search</c> refuses the vector with one line naming both models.
/// </summary>
internal sealed class ActiveModelTextEmbedder : ITextEmbedder, IDisposable
{
    private const string ActiveSql = "SELECT name, dimension, source FROM gallery.clip_models WHERE state = 'active'";

    // The registry read must not hold up a search for long: the SQL side waits for this answer.
    private const int ReadTimeoutSeconds = 5;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClipModel _configured;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClipModel> _loaded = new(StringComparer.Ordinal);
    private ClipModel _current;

    /// <param name="dataSource">The runtime login's data source (it may read <c>gallery.clip_models</c>).</param>
    /// <param name="configured">The process's own model; owned by the caller.</param>
    public ActiveModelTextEmbedder(NpgsqlDataSource dataSource, ClipModel configured)
    {
        _dataSource = dataSource;
        _configured = configured;
        _current = configured;
    }

    /// <inheritdoc />
    public string Model => Volatile.Read(ref _current).Name;

    /// <inheritdoc />
    public float[] Embed(string text) => EmbedWithModel(text).Embedding;

    /// <inheritdoc />
    /// <remarks>
    /// The active model it read goes with the answer (<see cref="TextEmbedding.ActiveModel"/>), so that <c>dbfirst
    /// search</c>, <c>ask</c> and the page check the vector against it without reading the registry again.
    /// </remarks>
    public TextEmbedding EmbedWithModel(string text)
    {
        var (model, active) = Follow();
        return new TextEmbedding(model.Name, model.TextEncoder.Encode(text)) { ActiveModel = active };
    }

    /// <summary>Disposes the models loaded from the registry; the configured one is its owner's.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var model in _loaded.Values)
            {
                model.Dispose();
            }

            _loaded.Clear();
        }
    }

    // The model to encode with, and the active model's name as read (null: none registered, or the read failed).
    private (ClipModel Model, string? Active) Follow()
    {
        var current = Volatile.Read(ref _current);
        var active = ReadActive();
        if (active is null || active.Value.Name == current.Name)
        {
            return (current, active?.Name);
        }

        lock (_gate)
        {
            var next = Resolve(active.Value.Name, active.Value.Dimension, active.Value.Source);
            if (next is not null)
            {
                Volatile.Write(ref _current, next);
            }

            return (Volatile.Read(ref _current), active.Value.Name);
        }
    }

    // Called under _gate. Null when the active model cannot be loaded here.
    private ClipModel? Resolve(string name, int dimension, string? source)
    {
        if (_configured.Name == name && _configured.Dimension == dimension)
        {
            return _configured;
        }

        if (_loaded.TryGetValue(name, out var loaded))
        {
            return loaded;
        }

        if (source is null)
        {
            return null;
        }

        ClipModel? model = null;
        try
        {
            model = ClipModel.Load(source);
            ModelRegistrationReader.RequireMatch(model, name, dimension);
            _loaded[name] = model;
            return model;
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException or InvalidOperationException or GalleryException)
        {
            model?.Dispose();
            return null;
        }
    }

    private (string Name, int Dimension, string? Source)? ReadActive()
    {
        try
        {
            using var command = _dataSource.CreateCommand(ActiveSql);
            command.CommandTimeout = ReadTimeoutSeconds;
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetString(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2)) : null;
        }
        catch (NpgsqlException)
        {
            // Without the registry the model in hand answers; the SQL side checks the name it gets back.
            return null;
        }
    }
}
