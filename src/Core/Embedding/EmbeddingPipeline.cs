using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using DbFirst.Files;
using DbFirst.Models;
using Npgsql;

namespace DbFirst.Embedding;

/// <summary>
/// Embeds the rows pending for one registered model: the one code path behind the <c>embed-pending</c> Hangfire job, <c>dbfirst embed</c>
/// and the benchmark. Four stages joined by bounded channels — claim → preprocess → encode → write — so the next
/// batch is decoded on all cores while the previous one is on the encoder, and memory stays flat however large the
/// gallery is (at most <see cref="EmbeddingOptions.MaxBatchesInFlight"/> batches exist at once).
/// </summary>
/// <remarks>
/// A claim is a transaction holding <c>FOR NO KEY UPDATE SKIP LOCKED</c> row locks from the claim until the batch's
/// results are committed, so any number of pipelines in any number of processes embed each (row, model) once, and rows
/// claimed by a process that dies are free again the moment PostgreSQL sees its connection close. The lock is the
/// no-key kind (a batch changes no key) so that foreign-key checks on claimed rows — the stored-neighbour triggers
/// of another batch's write pointing at them — never wait for this claim to commit.
/// </remarks>
internal sealed class EmbeddingPipeline
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly EmbeddingStore _store;
    private readonly IImageEmbedder _embedder;
    private readonly IngestedFileReader _reader;
    private readonly EmbeddingOptions _options;
    private readonly ILogger _logger;

    private RegisteredModel? _model;

    /// <summary>A pipeline for the active or staged model named by <paramref name="embedder"/> (registered as active in a gallery with none).</summary>
    public EmbeddingPipeline(NpgsqlDataSource dataSource, IImageEmbedder embedder, EmbeddingOptions options, ILogger<EmbeddingPipeline>? logger = null)
        : this(dataSource, null, embedder, options, logger)
    {
    }

    /// <summary>
    /// A pipeline that embeds the rows pending for <paramref name="model"/>; <paramref name="embedder"/> must be that
    /// model (same name and dimension), or a <see cref="GalleryException"/> says which is which.
    /// </summary>
    public EmbeddingPipeline(NpgsqlDataSource dataSource, RegisteredModel? model, IImageEmbedder embedder, EmbeddingOptions options, ILogger<EmbeddingPipeline>? logger = null)
    {
        _model = model is null ? null : EmbeddingModelResolver.Check(model, embedder);
        _dataSource = dataSource;
        _options = options.Validate();
        _store = new EmbeddingStore(dataSource, _options);
        _embedder = embedder;
        _reader = new IngestedFileReader(_options.Files);
        _logger = logger ?? NullLogger<EmbeddingPipeline>.Instance;
    }

    /// <summary>The model rows are embedded with.</summary>
    public string ModelName => _embedder.ModelName;

    /// <summary>The registry row this pipeline embeds for, resolved on first use.</summary>
    public async Task<RegisteredModel> ModelAsync(CancellationToken cancellationToken = default) =>
        _model ??= await EmbeddingModelResolver.ResolveAsync(_dataSource, _embedder, cancellationToken);

    /// <summary>Rows a run started now would work on (for a progress bar's total).</summary>
    public async Task<long> CountWorkAsync(CancellationToken cancellationToken = default) =>
        await _store.CountWorkAsync(await ModelAsync(cancellationToken), cancellationToken);

    /// <summary>
    /// Embeds rows until none is left to claim, <see cref="EmbeddingRequest.Limit"/> rows were claimed, or
    /// <paramref name="stoppingToken"/> fires. Stopping is graceful: no new batch is claimed, batches not yet on the
    /// encoder are handed back, and the batch on the encoder is written and committed before this returns.
    /// </summary>
    public async Task<EmbeddingResult> RunAsync(EmbeddingRequest request, IProgress<EmbeddingProgress>? progress = null, CancellationToken stoppingToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var run = new Run(this, await ModelAsync(stoppingToken), request, progress, stoppingToken);
        return await run.ExecuteAsync();
    }

    private sealed record PreparedRow(ClaimedRow Row, float[]? Pixels, EmbedFailure? Failure);

    private sealed record WorkItem(ClaimedBatch Claim)
    {
        public PreparedRow[]? Prepared { get; set; }

        public float[][]? Embeddings { get; set; }
    }

    // One run's state: its channels, its in-flight budget and its counters.
    private sealed class Run
    {
        private readonly EmbeddingPipeline _pipeline;
        private readonly RegisteredModel _model;
        private readonly EmbeddingRequest _request;
        private readonly IProgress<EmbeddingProgress>? _progress;
        private readonly CancellationToken _stopping;
        private readonly CancellationTokenSource _abort = new();
        private DateTime _started;
        private readonly SemaphoreSlim _inFlight;
        private readonly Channel<WorkItem> _claimed = Channel.CreateBounded<WorkItem>(1);
        private readonly Channel<WorkItem> _prepared = Channel.CreateBounded<WorkItem>(1);
        private readonly Channel<WorkItem> _encoded = Channel.CreateBounded<WorkItem>(1);
        private Exception? _failure;
        private int _embedded;
        private int _failedPermanently;
        private int _failedTransiently;
        private int _released;
        private int _batches;

        public Run(EmbeddingPipeline pipeline, RegisteredModel model, EmbeddingRequest request, IProgress<EmbeddingProgress>? progress, CancellationToken stopping)
        {
            _pipeline = pipeline;
            _model = model;
            _request = request;
            _progress = progress;
            _stopping = stopping;
            _inFlight = new SemaphoreSlim(pipeline._options.MaxBatchesInFlight);
        }

        private EmbeddingOptions Options => _pipeline._options;

        public async Task<EmbeddingResult> ExecuteAsync()
        {
            var clock = Stopwatch.StartNew();
            try
            {
                _started = await _pipeline._store.NowAsync(CancellationToken.None);
                await Task.WhenAll(
                    Stage(ClaimAsync, _claimed.Writer),
                    Stage(PreprocessAsync, _prepared.Writer),
                    Stage(EncodeAsync, _encoded.Writer),
                    Stage(WriteAsync, null));
            }
            catch (Exception) when (_failure is not null)
            {
                // Reported below: the first stage's failure is the cause, the others only stopped because of it.
            }
            finally
            {
                await ReleaseLeftoversAsync();
                _abort.Dispose();
                _inFlight.Dispose();
            }

            if (_failure is not null)
            {
                ExceptionDispatchInfo.Throw(_failure);
            }

            return new EmbeddingResult(
                _pipeline.ModelName, _embedded, _failedPermanently, _failedTransiently, _released, _batches, clock.Elapsed,
                Stopped: _stopping.IsCancellationRequested);
        }

        // Runs a stage on the thread pool; its end (or failure) completes its output, and a failure stops the others.
        private Task Stage(Func<Task> body, ChannelWriter<WorkItem>? output) => Task.Run(async () =>
        {
            try
            {
                await body();
                output?.TryComplete();
            }
            catch (Exception exception)
            {
                if (!(exception is OperationCanceledException && _abort.IsCancellationRequested))
                {
                    Interlocked.CompareExchange(ref _failure, exception, null);
                }

                await _abort.CancelAsync();
                output?.TryComplete(exception);
                throw;
            }
        });

        private async Task ClaimAsync()
        {
            var remaining = _request.Limit ?? int.MaxValue;
            using var claimOrStop = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token, _stopping);
            while (remaining > 0 && !_stopping.IsCancellationRequested)
            {
                try
                {
                    await _inFlight.WaitAsync(claimOrStop.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !_abort.IsCancellationRequested)
                {
                    break;
                }

                var count = Math.Min(Options.BatchSize, remaining);
                ClaimedBatch? claim;
                try
                {
                    claim = await _pipeline._store.ClaimAsync(_model, count, _started, _abort.Token);
                }
                catch
                {
                    _inFlight.Release();
                    throw;
                }

                if (claim is null)
                {
                    _inFlight.Release();

                    // Batches still in flight may hand rows back (a transient failure with no retry delay):
                    // wait for them, then look once more, so a run ends only when nothing is claimable.
                    if (await WaitUntilIdleAsync())
                    {
                        continue;
                    }

                    break;
                }

                remaining -= claim.Rows.Count;
                await _claimed.Writer.WriteAsync(new WorkItem(claim), CancellationToken.None);
            }
        }

        // True when something was in flight (and is now done), so claiming again may find rows.
        private async Task<bool> WaitUntilIdleAsync()
        {
            var slots = Options.MaxBatchesInFlight;
            if (_inFlight.CurrentCount == slots)
            {
                return false;
            }

            for (var taken = 0; taken < slots; taken++)
            {
                await _inFlight.WaitAsync(_abort.Token);
            }

            _inFlight.Release(slots);
            return !_stopping.IsCancellationRequested;
        }

        private async Task PreprocessAsync()
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.PreprocessParallelism, CancellationToken = _abort.Token };
            await foreach (var item in _claimed.Reader.ReadAllAsync(_abort.Token))
            {
                if (_stopping.IsCancellationRequested)
                {
                    await ReleaseAsync(item);
                    continue;
                }

                try
                {
                    var rows = item.Claim.Rows;
                    var prepared = new PreparedRow[rows.Count];
                    Parallel.For(0, rows.Count, parallel, i => prepared[i] = Prepare(rows[i]));
                    item.Prepared = prepared;
                    await _prepared.Writer.WriteAsync(item, CancellationToken.None);
                }
                catch
                {
                    await ReleaseAsync(item);
                    throw;
                }
            }
        }

        private PreparedRow Prepare(ClaimedRow row)
        {
            try
            {
                // Read through the one guarded reader: a FIFO, a swapped-in link or a hung mount ends as this row's error.
                using var encoded = _pipeline._reader.ReadData(row.File, _abort.Token);
                return new PreparedRow(row, _pipeline._embedder.Preprocess(encoded, row.Path), null);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException and not OperationCanceledException)
            {
                var failure = EmbedFailure.From(exception);
                _pipeline._logger.LogDebug(exception, "Row {Id} ({Path}) not embedded: {Reason}", row.Id, row.Path, failure.Reason);
                return new PreparedRow(row, null, failure);
            }
        }

        private async Task EncodeAsync()
        {
            await foreach (var item in _prepared.Reader.ReadAllAsync(_abort.Token))
            {
                if (_stopping.IsCancellationRequested)
                {
                    await ReleaseAsync(item);
                    continue;
                }

                try
                {
                    var pixels = item.Prepared!.Where(p => p.Pixels is not null).Select(p => p.Pixels!).ToList();
                    if (pixels.Count > 0)
                    {
                        var embeddings = _pipeline._embedder.Encode(pixels);
                        if (embeddings.Length != pixels.Count || embeddings.Any(e => e.Length != _pipeline._embedder.Dimension))
                        {
                            throw new InvalidOperationException(
                                $"the encoder returned {embeddings.Length} embeddings for {pixels.Count} images, or of the wrong length");
                        }

                        item.Embeddings = embeddings;
                    }

                    await _encoded.Writer.WriteAsync(item, CancellationToken.None);
                }
                catch
                {
                    await ReleaseAsync(item);
                    throw;
                }
            }
        }

        // Writes and commits every batch that reached it, even after a stop was requested: that is the graceful part.
        private async Task WriteAsync()
        {
            await foreach (var item in _encoded.Reader.ReadAllAsync(_abort.Token))
            {
                try
                {
                    var embeddings = new List<(long, float[])>();
                    var failures = new List<(long, EmbedFailure)>();
                    var next = 0;
                    foreach (var prepared in item.Prepared!)
                    {
                        if (prepared.Failure is { } failure)
                        {
                            failures.Add((prepared.Row.Id, failure));
                        }
                        else
                        {
                            embeddings.Add((prepared.Row.Id, item.Embeddings![next++]));
                        }
                    }

                    await _pipeline._store.CompleteAsync(item.Claim, _model, embeddings, failures, CancellationToken.None);
                    _batches++;
                    _embedded += embeddings.Count;
                    _failedPermanently += failures.Count(f => f.Item2.Permanent);
                    _failedTransiently += failures.Count(f => !f.Item2.Permanent);
                }
                finally
                {
                    await item.Claim.DisposeAsync();
                    _inFlight.Release();
                }

                _progress?.Report(new EmbeddingProgress(_embedded, _failedPermanently + _failedTransiently));
            }
        }

        private async Task ReleaseAsync(WorkItem item)
        {
            Interlocked.Add(ref _released, item.Claim.Rows.Count);
            await item.Claim.DisposeAsync();
            _inFlight.Release();
        }

        // After a failure, batches may be left in the channels: hand their rows back.
        private async Task ReleaseLeftoversAsync()
        {
            foreach (var channel in new[] { _claimed, _prepared, _encoded })
            {
                while (channel.Reader.TryRead(out var item))
                {
                    await item.Claim.DisposeAsync();
                }
            }
        }
    }
}
