using System.Text.Json;
using DbFirst.Clip;
using DbFirst.Embedding;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Npgsql;
using Pgvector;
using SkiaSharp;

namespace DbFirst.Tests.Models;

/// <summary>
/// Issue 12's acceptance, on a real server with real images and the real pipeline: model A (tiny-clip) active with
/// every image embedded, model B (tiny-clip-384, another dimension) staged and backfilled in the background while a
/// loop of searches runs — similar images, near duplicates, and text through SQL <c>gallery.search</c> with
/// <c>serve</c>'s text encoder answering. Until the promote every answer is A's; after it, B's; after the rollback, A's.
/// </summary>
public sealed class ModelSwitchAcceptanceTests : IAsyncLifetime
{
    private const string ModelA = "tiny-clip-test";
    private const string ModelB = "tiny-clip-test-384";
    private const string Text = "a red photo";
    private const int Images = 24;
    private const int Chunk = 5;
    private const int K = 5;

    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-model-switch-").FullName;
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ClipModel _modelA = null!;
    private ActiveModelTextEmbedder _textEmbedder = null!;
    private TextEncoderHost _host = null!;
    private RegistryEmbedding _embedding = null!;
    private long[] _ids = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        // Images 0 and 1 are the same picture, so near_duplicates has a pair to find under both models.
        var paths = Enumerable.Range(0, Images).Select(i =>
        {
            var path = Path.Combine(_directory, $"photo-{i:D2}.jpg");
            File.WriteAllBytes(path, Shapes(seed: i == 1 ? 0 : i));
            return path;
        }).ToList();
        await GalleryRows.InsertAsync(_database, paths);
        _dataSource = _database.CreateDataSource();
        _ids = (await QueryAsync("SELECT id FROM gallery.image_gallery ORDER BY path", r => r.GetInt64(0))).ToArray();
        _modelA = ClipModel.Load(TestPaths.TinyClipModel);
        _embedding = new RegistryEmbedding(_dataSource, new ClipImageEmbedder(_modelA), new EmbeddingOptions { BatchSize = 2 });
        var first = await _embedding.RunAsync(new EmbeddingRequest());
        Assert.Equal((ModelA, Images, (EmbeddingResult?)null), (first.Active.Model, first.Active.Embedded, first.Staged));
        _textEmbedder = new ActiveModelTextEmbedder(_dataSource, _modelA);
        _host = await TextEncoderHost.StartAsync(_textEmbedder, _database.ConnectionString);
        await _database.ExecuteAsync($"UPDATE gallery.settings SET value = '{_host.EmbedUrl}' WHERE key = 'embed_url'");
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _textEmbedder.Dispose();
        _embedding.Dispose();
        _modelA.Dispose();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task StageBackfillPromoteRollback_SearchesAnswerWithOneModelOnlyThroughout_AndEveryCountIsExact()
    {
        var idA = await _database.ScalarAsync<int>($"SELECT id FROM gallery.clip_models WHERE name = '{ModelA}'");
        var answersA = await AnswersAsync();
        Assert.Equal(await ExactAsync(idA, _modelA), answersA with { Duplicates = "" });
        Assert.Contains($"{_ids[0]}-{_ids[1]}", answersA.Duplicates);

        var stage = await CliRun.InvokeAsync("model", "stage", TestPaths.TinyClip384Model, "--connection", _database.ConnectionString);
        Assert.Equal(0, stage.ExitCode);
        Assert.Equal([(ModelA, "active", (long)Images, (long)Images), (ModelB, "staged", 0L, (long)Images)], await ModelListAsync());

        // The backfill, in chunks so that coverage can be checked exactly between them, while searches loop beside it.
        using var stop = new CancellationTokenSource();
        var during = Task.Run(() => SearchLoopAsync(answersA, stop.Token));
        var backfilled = 0;
        while (backfilled < Images)
        {
            var run = await _embedding.RunAsync(new EmbeddingRequest(Chunk));
            Assert.Equal(0, run.Active.Embedded);
            Assert.Equal((ModelB, Math.Min(Chunk, Images - backfilled)), (run.Staged?.Model, run.Staged?.Embedded));
            backfilled += run.Staged!.Embedded;
            Assert.Equal($"{ModelA}:active:{Images}:{Images},{ModelB}:staged:{backfilled}:{Images}", await CoverageAsync());
            Assert.Equal(answersA, await AnswersAsync());
        }

        await stop.CancelAsync();
        var loop = await during;
        Assert.Empty(loop.Problems);
        Assert.True(loop.Rounds > 0, "the search loop should have run during the backfill");
        Assert.Equal([(ModelA, "active", (long)Images, (long)Images), (ModelB, "staged", (long)Images, (long)Images)], await ModelListAsync());
        var idle = await _embedding.RunAsync(new EmbeddingRequest());
        Assert.Equal((0, 0), (idle.Active.Embedded, idle.Staged?.Embedded));

        Assert.Equal(0, (await CliRun.InvokeAsync("index", "rebuild", "--model", ModelB, "--connection", _database.ConnectionString)).ExitCode);
        Assert.Equal(0, (await CliRun.InvokeAsync("model", "promote", "--connection", _database.ConnectionString)).ExitCode);
        var idB = await _database.ScalarAsync<int>($"SELECT id FROM gallery.clip_models WHERE name = '{ModelB}'");
        using var modelB = ClipModel.Load(TestPaths.TinyClip384Model);
        var exactB = await ExactAsync(idB, modelB);
        var answersB = await AnswersAsync();
        Assert.Equal(exactB, answersB with { Duplicates = "" });
        Assert.NotEqual(answersA.Similar, answersB.Similar);
        Assert.NotEqual(answersA.Text, answersB.Text);
        Assert.Contains($"{_ids[0]}-{_ids[1]}", answersB.Duplicates);
        var after = await SearchLoopAsync(answersB, rounds: 3);
        Assert.Equal((0, 3), (after.Problems.Count, after.Rounds));
        Assert.Equal([(ModelB, "active", (long)Images, (long)Images), (ModelA, "retired", (long)Images, (long)Images)], await ModelListAsync());

        Assert.Equal(0, (await CliRun.InvokeAsync("model", "rollback", "--connection", _database.ConnectionString)).ExitCode);
        Assert.Equal(answersA, await AnswersAsync());
        Assert.Equal([(ModelA, "active", (long)Images, (long)Images), (ModelB, "retired", (long)Images, (long)Images)], await ModelListAsync());

        // No (row, model) embedded twice: one embedding per image and model, each written once.
        Assert.Equal($"{idA}:{Images}:{Images},{idB}:{Images}:{Images}", await _database.ScalarAsync<string>("""
            SELECT string_agg(model_id || ':' || n || ':' || images, ',' ORDER BY model_id)
            FROM (SELECT model_id, count(*) AS n, count(DISTINCT image_id) AS images FROM gallery.image_embeddings GROUP BY model_id) s
            """));
    }

    // What the searches answer now: similar images of two probes, near-duplicate pairs, and a text search.
    private async Task<Answers> AnswersAsync(CancellationToken cancellationToken = default)
    {
        var similar = new List<string>();
        foreach (var probe in Probes)
        {
            similar.Add(string.Join(",", await QueryAsync($"SELECT id FROM gallery.similar_images({probe}, {K})", r => r.GetInt64(0), cancellationToken: cancellationToken)));
        }

        var duplicates = await QueryAsync("SELECT id_a, id_b FROM gallery.near_duplicates(0.0001) ORDER BY 1, 2", r => $"{r.GetInt64(0)}-{r.GetInt64(1)}", cancellationToken: cancellationToken);
        var text = await QueryAsync($"SELECT id FROM gallery.search($1, {K})", r => r.GetInt64(0), Text, cancellationToken);
        return new Answers(string.Join(";", similar), string.Join(";", duplicates), string.Join(",", text));
    }

    // The answers computed straight from one model's stored vectors (and its own text encoder), exhaustively.
    private async Task<Answers> ExactAsync(int modelId, ClipModel model)
    {
        var similar = new List<string>();
        foreach (var probe in Probes)
        {
            similar.Add(string.Join(",", await QueryAsync($"""
                SELECT e.image_id
                FROM gallery.image_embeddings e
                JOIN gallery.image_embeddings q ON q.model_id = e.model_id AND q.image_id = {probe}
                WHERE e.model_id = {modelId} AND e.image_id <> {probe}
                ORDER BY e.embedding <=> q.embedding, e.image_id
                LIMIT {K}
                """, r => r.GetInt64(0))));
        }

        var text = await QueryAsync($"""
            SELECT image_id FROM gallery.image_embeddings WHERE model_id = {modelId} ORDER BY embedding <=> $1, image_id LIMIT {K}
            """, r => r.GetInt64(0), new Vector(model.TextEncoder.Encode(Text)));
        return new Answers(string.Join(";", similar), "", string.Join(",", text));
    }

    // A picture of a few coloured shapes, different for each seed in colour, place and size, so that the two models
    // (one a projection of the other) rank neighbours differently.
    private static byte[] Shapes(int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(96, 72);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(RandomColour(random));
            using var paint = new SKPaint { IsAntialias = true };
            for (var shape = 0; shape < 4; shape++)
            {
                paint.Color = RandomColour(random);
                canvas.DrawCircle(random.Next(96), random.Next(72), random.Next(6, 30), paint);
            }
        }

        return TestImages.EncodeJpeg(bitmap);
    }

    private static SKColor RandomColour(Random random) => new((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));

    private IEnumerable<long> Probes => [_ids[5], _ids[17]];

    // Runs the searches until stopped (or for a number of rounds), recording every error and every answer that is not expected.
    private async Task<LoopResult> SearchLoopAsync(Answers expected, CancellationToken stop = default, int? rounds = null)
    {
        var problems = new List<string>();
        var done = 0;
        while (!stop.IsCancellationRequested && (rounds is null || done < rounds))
        {
            try
            {
                var answers = await AnswersAsync(CancellationToken.None);
                if (answers != expected)
                {
                    problems.Add($"round {done}: {answers} instead of {expected}");
                }
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                problems.Add($"round {done}: {e.Message}");
            }

            done++;
        }

        return new LoopResult(done, problems);
    }

    private Task<string?> CoverageAsync() => _database.ScalarAsync<string>(
        "SELECT string_agg(name || ':' || state || ':' || embedded || ':' || total, ',' ORDER BY model_id) FROM gallery.model_coverage()");

    private async Task<IReadOnlyList<(string, string, long, long)>> ModelListAsync()
    {
        var list = await CliRun.InvokeAsync("model", "list", "--json", "--connection", _database.ConnectionString);
        Assert.Equal(0, list.ExitCode);
        using var document = JsonDocument.Parse(list.Out);
        return document.RootElement.GetProperty("models").EnumerateArray().Select(m => (
            m.GetProperty("name").GetString()!, m.GetProperty("state").GetString()!,
            m.GetProperty("embedded").GetInt64(), m.GetProperty("total").GetInt64())).ToList();
    }

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, object? parameter = null, CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(sql);
        if (parameter is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private sealed record Answers(string Similar, string Duplicates, string Text);

    private sealed record LoopResult(int Rounds, IReadOnlyList<string> Problems);
}
