using System.Text.Json;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Models;

/// <summary>
/// The lifecycle a DBA drives through <c>dbfirst model …</c> (migration 105), against a real server: model A (3-d,
/// registered the way the first embedder registers it) active with every image embedded, model B (tiny-clip-384)
/// staged from its folder. Embeddings are written with SQL so that each step's coverage is known exactly.
/// </summary>
public sealed class ModelLifecycleTests : IAsyncLifetime
{
    private const string ModelA = "model-a";
    private const string ModelB = "tiny-clip-test-384";
    private const int Images = 5;

    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await _database.ExecuteAsync($"""
            INSERT INTO gallery.image_gallery (path) SELECT '/photos/' || i || '.jpg' FROM generate_series(1, {Images}) AS i;
            SELECT gallery.ensure_active_model('{ModelA}', 3);
            INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
            SELECT (gallery.active_model()).id, g.id, ARRAY[1, g.id, 0]::real[]::vector FROM gallery.image_gallery g;
            """);
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Stage_ModelFolder_RegistersItStagedWithEveryImagePending()
    {
        var stage = await ModelAsync("stage", TestPaths.TinyClip384Model);

        Assert.Equal(0, stage.ExitCode);
        Assert.Contains($"staged {ModelB} (384-d, immich layout)", stage.Out);
        var models = await ListAsync();
        Assert.Equal([(ModelA, "active", 3, (long)Images, (long)Images), (ModelB, "staged", 384, 0L, (long)Images)], models.Select(m => (m.Name, m.State, m.Dimension, m.Embedded, m.Total)));
        Assert.Equal(TestPaths.TinyClip384Model, models[1].Source);
        Assert.Equal("immich", models[1].Layout);
        Assert.Equal(Images, await _database.ScalarAsync<long>($"SELECT count(*) FROM gallery.embedding_pending p JOIN gallery.clip_models m ON m.id = p.model_id WHERE m.name = '{ModelB}'"));
    }

    [Fact]
    public async Task Stage_WhileAnotherModelIsStaged_RefusesNamingIt()
    {
        await _database.ExecuteAsync("SELECT gallery.stage_model('model-c', 2, '/models/c', 'immich')");

        var stage = await ModelAsync("stage", TestPaths.TinyClip384Model);

        Assert.Equal(1, stage.ExitCode);
        Assert.Equal("dbfirst: model stage refused: model-c is already staged; promote it, or drop it with dbfirst model drop model-c --force\n", stage.Error);
        Assert.DoesNotContain(await ListAsync(), m => m.Name == ModelB);
    }

    [Fact]
    public async Task Promote_BelowCoverage_RefusesWithTheNumbersAndChangesNothing()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(2);

        var promote = await ModelAsync("promote");
        var lower = await ModelAsync("promote", "--min-coverage", "0.5");

        Assert.Equal(1, promote.ExitCode);
        Assert.Equal($"dbfirst: model promote refused: {ModelB} has embedded 2 of 5 images (40.0%), below --min-coverage 100.0%\n", promote.Error);
        Assert.Equal(1, lower.ExitCode);
        Assert.Contains("(40.0%), below --min-coverage 50.0%", lower.Error);
        Assert.Equal(["active", "staged"], (await ListAsync()).Select(m => m.State));
    }

    [Fact]
    public async Task Promote_FullCoverageWithoutIndex_RefusesNamingTheIndexCommand()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(Images);
        await _database.ExecuteAsync("DROP INDEX gallery.image_embeddings_m2_embedding_idx");

        var promote = await ModelAsync("promote");

        Assert.Equal(1, promote.ExitCode);
        Assert.Equal($"dbfirst: model promote refused: {ModelB} has no valid vector index yet (dbfirst index rebuild --model {ModelB})\n", promote.Error);
    }

    [Fact]
    public async Task PromoteRollbackDrop_FullCycle_EachStepExactAndGuarded()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(Images);
        var rebuild = await CliRun.InvokeAsync("index", "rebuild", "--model", ModelB, "--connection", _database.ConnectionString);
        Assert.Equal(0, rebuild.ExitCode);

        var promote = await ModelAsync("promote");
        var afterPromote = await ListAsync();
        var rollback = await ModelAsync("rollback");
        var afterRollback = await ListAsync();
        var dropActive = await ModelAsync("drop", ModelA);
        var dropUnforced = await ModelAsync("drop", ModelB);
        var dropForced = await ModelAsync("drop", ModelB, "--force");
        var afterDrop = await ListAsync();
        var secondRollback = await ModelAsync("rollback");

        Assert.Equal((0, $"{ModelB} (384-d) is now the active model; searches that start from now use it\n"), (promote.ExitCode, promote.Out));
        Assert.Equal([(ModelB, "active", 5L), (ModelA, "retired", 5L)], afterPromote.Select(m => (m.Name, m.State, m.Embedded)));
        Assert.Equal($"image_embeddings_m{afterPromote[0].Id}_embedding_idx", afterPromote[0].IndexName);
        Assert.Equal((0, $"{ModelA} (3-d) is the active model again\n"), (rollback.ExitCode, rollback.Out));
        Assert.Equal([(ModelA, "active"), (ModelB, "retired")], afterRollback.Select(m => (m.Name, m.State)));
        Assert.Equal((1, $"dbfirst: model drop refused: {ModelA} is the active model; promote or roll back to another model first\n"), (dropActive.ExitCode, dropActive.Error));
        Assert.Equal((1, $"dbfirst: model drop refused: it would destroy 5 embeddings of the retired model {ModelB}; add --force\n"), (dropUnforced.ExitCode, dropUnforced.Error));
        Assert.Equal((0, $"dropped {ModelB} and its 5 embeddings\n"), (dropForced.ExitCode, dropForced.Out));
        Assert.Equal([(ModelA, "active", 5L, 5L)], afterDrop.Select(m => (m.Name, m.State, m.Embedded, m.Total)));
        Assert.Null(await _database.ScalarAsync<string>($"SELECT to_regclass('gallery.image_embeddings_m{afterPromote[0].Id}')::text"));
        Assert.Equal(1, secondRollback.ExitCode);
        Assert.Equal("dbfirst: model rollback refused: no retired model with kept embeddings to return to\n", secondRollback.Error);
    }

    [Fact]
    public async Task Promote_StagedIndexNeverTuned_SaysSoInOneNote_TunedBeforehand_SaysNothing()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(Images);
        var untuned = await ModelAsync("promote");
        await ModelAsync("rollback");
        // As `dbfirst index tune --model` stores it: under the staged model's name until it becomes active.
        await _database.ExecuteAsync($"INSERT INTO gallery.settings (key, value) VALUES ('hnsw.ef_search@{ModelB}', '64')");
        var tuned = await ModelAsync("promote");

        Assert.Equal(0, untuned.ExitCode);
        Assert.Equal(
            $"dbfirst: note: {ModelB}'s index was never tuned, so searches use pgvector's defaults (hnsw.ef_search 40, ivfflat.probes 1); run dbfirst index tune (next time, dbfirst index tune --model {ModelB} before promote)\n",
            untuned.Error);
        Assert.Equal((0, ""), (tuned.ExitCode, tuned.Error));
        Assert.Equal("64", await _database.ScalarAsync<string>("SELECT value FROM gallery.settings WHERE key = 'hnsw.ef_search'"));
    }

    [Fact]
    public async Task Promote_NewImagesWhileRetired_RollbackFindsThemPendingForTheOldModel()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(Images);
        await ModelAsync("promote");

        await _database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) VALUES ('/photos/new.jpg')");
        await ModelAsync("rollback");

        Assert.Equal([(ModelA, "active", 5L, 6L), (ModelB, "retired", 5L, 6L)], (await ListAsync()).Select(m => (m.Name, m.State, m.Embedded, m.Total)));
    }

    [Fact]
    public async Task IndexRebuildAndStatus_ModelFolderOrName_ActOnThatModelsPartitionOnly()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);
        await EmbedBAsync(3);

        var rebuild = await CliRun.InvokeAsync("index", "rebuild", "--model", TestPaths.TinyClip384Model, "--connection", _database.ConnectionString);
        var staged = await CliRun.InvokeAsync("index", "status", "--json", "--model", ModelB, "--connection", _database.ConnectionString);
        var active = await CliRun.InvokeAsync("index", "status", "--json", "--connection", _database.ConnectionString);
        var unknown = await CliRun.InvokeAsync("index", "status", "--model", "no-such-model", "--connection", _database.ConnectionString);

        Assert.Equal(0, rebuild.ExitCode);
        var id = await _database.ScalarAsync<int>($"SELECT id FROM gallery.clip_models WHERE name = '{ModelB}'");
        using (var status = JsonDocument.Parse(staged.Out))
        {
            Assert.Equal($"image_embeddings_m{id}_embedding_idx", status.RootElement.GetProperty("index_name").GetString());
            Assert.Equal(3, status.RootElement.GetProperty("rows").GetInt64());
        }

        using (var status = JsonDocument.Parse(active.Out))
        {
            Assert.Equal(Images, status.RootElement.GetProperty("rows").GetInt64());
        }

        Assert.Equal("CREATE INDEX image_embeddings_m2_embedding_idx ON gallery.image_embeddings_m2 USING hnsw (((embedding)::vector(384)) vector_cosine_ops) WITH (m='16', ef_construction='64')",
            await _database.ScalarAsync<string>($"SELECT indexdef FROM pg_indexes WHERE indexname = 'image_embeddings_m{id}_embedding_idx'"));
        Assert.Equal((1, "dbfirst: no model named no-such-model (dbfirst model list)\n"), (unknown.ExitCode, unknown.Error));
    }

    [Fact]
    public async Task Drop_UnknownModel_RefusesInOneLine()
    {
        var drop = await ModelAsync("drop", "no-such-model", "--force");

        Assert.Equal((1, "dbfirst: model drop refused: no model named no-such-model (dbfirst model list)\n"), (drop.ExitCode, drop.Error));
    }

    [Fact]
    public async Task Promote_MinCoverageOutOfRange_RefusedBeforeTouchingTheDatabase()
    {
        await ModelAsync("stage", TestPaths.TinyClip384Model);

        var promote = await ModelAsync("promote", "--min-coverage", "1.5");

        Assert.NotEqual(0, promote.ExitCode);
        Assert.Contains("--min-coverage must be between 0 and 1", promote.Error);
        Assert.Equal(["active", "staged"], (await ListAsync()).Select(m => m.State));
    }

    [Fact]
    public async Task LifecycleFunctions_RuntimeLoginAndAnalyst_MayNotCallThem()
    {
        var callable = await _database.ScalarAsync<long>("""
            SELECT count(*)
            FROM pg_proc p, (VALUES ('dbfirst_app'), ('gallery_operator'), ('gallery_analyst')) AS r(role)
            WHERE p.pronamespace = 'gallery'::regnamespace
              AND p.proname IN ('stage_model', 'promote_model', 'rollback_model', 'drop_model')
              AND has_function_privilege(r.role, p.oid, 'EXECUTE')
            """);

        Assert.Equal(0, callable);
    }

    private Task<CliRun> ModelAsync(params string[] args) =>
        CliRun.InvokeAsync(["model", .. args, "--connection", _database.ConnectionString]);

    private async Task<IReadOnlyList<ListedModel>> ListAsync()
    {
        var list = await ModelAsync("list", "--json");
        Assert.Equal(0, list.ExitCode);
        using var document = JsonDocument.Parse(list.Out);
        return document.RootElement.GetProperty("models").EnumerateArray().Select(m => new ListedModel(
            m.GetProperty("id").GetInt32(), m.GetProperty("name").GetString()!, m.GetProperty("state").GetString()!,
            m.GetProperty("dimension").GetInt32(), m.GetProperty("embedded").GetInt64(), m.GetProperty("total").GetInt64(),
            m.GetProperty("index_name").GetString(), m.GetProperty("source").GetString(), m.GetProperty("layout").GetString())).ToList();
    }

    private async Task EmbedBAsync(int images)
    {
        await _database.ExecuteAsync($"""
        INSERT INTO gallery.image_embeddings (model_id, image_id, embedding)
        SELECT m.id, g.id, array_fill(g.id::real, ARRAY[384])::vector
        FROM gallery.clip_models m, gallery.image_gallery g
        WHERE m.name = '{ModelB}'
        ORDER BY g.id
        LIMIT {images}
        """);
    }

    private sealed record ListedModel(int Id, string Name, string State, int Dimension, long Embedded, long Total, string? IndexName, string? Source, string? Layout);
}
