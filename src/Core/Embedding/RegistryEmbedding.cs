using DbFirst.Clip;
using DbFirst.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Npgsql;

namespace DbFirst.Embedding;

/// <summary>
/// What <c>dbfirst embed</c> and the <c>embed-pending</c> job run: the registry's active model first (new images stay
/// searchable), then the staged model's backfill, each with its own <see cref="EmbeddingPipeline"/>. Each model comes
/// from the process's own model (<c>--model</c>, <c>Clip__ModelPath</c>) when that is the registered one, so a
/// per-worker copy of the files overrides the registered folder; otherwise from the registry row's <c>source</c>
/// folder, loaded once per process and kept (by model id), so that a fleet of workers follows <c>model stage</c> and
/// <c>promote</c> without any configuration change.
/// </summary>
internal sealed class RegistryEmbedding : IDisposable
{
    private const string CurrentSql = """
        SELECT id, name, dimension, source, layout, state
        FROM gallery.clip_models
        WHERE state IN ('active', 'staged')
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly IImageEmbedder _configured;
    private readonly EmbeddingOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Func<string, ClipModel> _load;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, LoadedModel> _loaded = [];

    /// <param name="dataSource">The runtime login's data source.</param>
    /// <param name="configured">The process's own model; owned by the caller.</param>
    /// <param name="options">Pipeline settings, shared by every model's run.</param>
    /// <param name="loggers">Where the pipelines and the load problems are logged.</param>
    /// <param name="load">Loads a model folder (tests count the loads); <see cref="ClipModel.Load"/> by default.</param>
    public RegistryEmbedding(
        NpgsqlDataSource dataSource, IImageEmbedder configured, EmbeddingOptions options,
        ILoggerFactory? loggers = null, Func<string, ClipModel>? load = null)
    {
        _dataSource = dataSource;
        _configured = configured;
        _options = options.Validate();
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<RegistryEmbedding>();
        _load = load ?? (directory => ClipModel.Load(directory));
    }

    /// <summary>
    /// Embeds the active model's pending rows, then (unless stopped) the staged model's, each up to
    /// <see cref="EmbeddingRequest.Limit"/> rows. <paramref name="run"/> runs one pipeline (the command wraps it in a
    /// progress bar); <see cref="EmbeddingPipeline.RunAsync"/> without progress by default.
    /// </summary>
    /// <exception cref="GalleryException">The active model cannot be loaded here (the line says why); nothing ran.</exception>
    public async Task<RegistryEmbeddingResult> RunAsync(
        EmbeddingRequest request,
        Func<EmbeddingPipeline, CancellationToken, Task<EmbeddingResult>>? run = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        run ??= (pipeline, token) => pipeline.RunAsync(request, progress: null, token);
        var (active, staged) = await ReadCurrentAsync(cancellationToken);
        var problems = new List<string>();

        // A gallery without a model yet: the pipeline registers the process's own model as the active one.
        var activePipeline = active is null
            ? new EmbeddingPipeline(_dataSource, _configured, _options, _loggers.CreateLogger<EmbeddingPipeline>())
            : PipelineFor(active, Embedder(active) ?? throw new GalleryException(Problem(active)));
        var activeResult = await run(activePipeline, cancellationToken);

        EmbeddingResult? stagedResult = null;
        if (staged is not null && !activeResult.Stopped)
        {
            if (Embedder(staged) is { } embedder)
            {
                stagedResult = await run(PipelineFor(staged, embedder), cancellationToken);
            }
            else
            {
                problems.Add(Problem(staged));
            }
        }

        foreach (var problem in problems)
        {
            _logger.LogWarning("{Problem}", problem);
        }

        return new RegistryEmbeddingResult(activeResult, stagedResult, problems);
    }

    /// <summary>Disposes the models loaded from registered folders; the configured one is its owner's.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var loaded in _loaded.Values)
            {
                loaded.Model?.Dispose();
            }

            _loaded.Clear();
        }
    }

    private EmbeddingPipeline PipelineFor(RegisteredModel model, IImageEmbedder embedder) =>
        new(_dataSource, model, embedder, _options, _loggers.CreateLogger<EmbeddingPipeline>());

    private string Problem(RegisteredModel model)
    {
        lock (_gate)
        {
            var reason = _loaded.TryGetValue(model.Id, out var loaded) ? loaded.Problem : null;
            return reason ?? (model.Source is null
                ? $"the gallery's {model.State} model is {model.Name} ({model.Dimension}-d), not {_configured.ModelName}, and it was registered without a folder: embed with that model (--model), or stage this one with `dbfirst model stage DIR`"
                : $"cannot load the {model.State} model {model.Name}");
        }
    }

    // The embedder for model, or null when this process cannot embed for it (Problem says why).
    private IImageEmbedder? Embedder(RegisteredModel model)
    {
        if (_configured.ModelName == model.Name)
        {
            // The same name in another dimension is refused by the pipeline with a line naming both.
            return _configured;
        }

        if (model.Source is null)
        {
            return null;
        }

        lock (_gate)
        {
            if (_loaded.TryGetValue(model.Id, out var loaded) && loaded.Model is not null)
            {
                return new ClipImageEmbedder(loaded.Model);
            }

            // A failed load is tried again on the next run: the files may have been copied meanwhile.
            ClipModel? clip = null;
            try
            {
                clip = _load(model.Source);
                ModelRegistrationReader.RequireMatch(clip, model.Name, model.Dimension);
                _loaded[model.Id] = new LoadedModel(clip, null);
                return new ClipImageEmbedder(clip);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
                or InvalidOperationException or OnnxRuntimeException or GalleryException)
            {
                clip?.Dispose();
                _loaded[model.Id] = new LoadedModel(null,
                    $"cannot load the {model.State} model {model.Name} from {model.Source}: {e.Message}");
                return null;
            }
        }
    }

    private async Task<(RegisteredModel? Active, RegisteredModel? Staged)> ReadCurrentAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(CurrentSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        RegisteredModel? active = null, staged = null;
        while (await reader.ReadAsync(cancellationToken))
        {
            var model = new RegisteredModel(
                reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetString(5));
            if (model.State == "active")
            {
                active = model;
            }
            else
            {
                staged = model;
            }
        }

        return (active, staged);
    }

    // A model loaded from its registered folder, or why it could not be.
    private sealed record LoadedModel(ClipModel? Model, string? Problem);
}
