using System.Globalization;
using DbFirst.Indexing;
using DbFirst.Tests.Support;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Tests.Indexing;

/// <summary>
/// <c>dbfirst index tune --model NAME</c> on a real server: the staged model's index is tuned before promote, its
/// setting waits under its own key while the active model's stays in force, and promote and rollback (migration 111)
/// swap the two models' settings, so each model is searched with its own.
/// </summary>
public sealed class IndexTunerTests
{
    private const string ActiveValue = "77";

    [Fact]
    public async Task TuneStagedModel_StoredUnderItsName_AppliedFromPromote_RollbackRestoresTheFirst()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ids = await SyntheticGallery.LoadAsync(dataSource, SyntheticGallery.GaussianMixture(1500, 32, 15, seed: 3), 15);
        var modelA = await database.ScalarAsync<string>("SELECT name FROM gallery.clip_models WHERE state = 'active'");
        await database.ExecuteAsync($"""
            INSERT INTO gallery.settings (key, value, note) VALUES ('hnsw.ef_search', '{ActiveValue}', 'tuned for {modelA}');
            SELECT gallery.stage_model('model-b', 48, '/models/b', 'immich');
            """);
        var modelB = await database.ScalarAsync<int>("SELECT id FROM gallery.clip_models WHERE name = 'model-b'");
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY gallery.image_embeddings_m{modelB} (model_id, image_id, embedding) FROM STDIN (FORMAT BINARY)"))
        {
            var vectors = SyntheticGallery.GaussianMixture(ids.Length, 48, 15, seed: 4);
            for (var i = 0; i < ids.Length; i++)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(modelB, NpgsqlDbType.Integer);
                await writer.WriteAsync(ids[i], NpgsqlDbType.Bigint);
                await writer.WriteAsync(new Vector(vectors[i]));
            }

            await writer.CompleteAsync();
        }

        var log = new StringWriter();
        var report = await new IndexTuner(dataSource).TuneAsync(new TuneOptions(TargetRecall: 0.95, Queries: 40, K: 10, Model: "model-b"), log);
        var chosen = report.Chosen.Value.ToString(CultureInfo.InvariantCulture);

        Assert.True(report.Stored, log.ToString());
        Assert.Contains("model-b's hnsw index", log.ToString());
        Assert.Equal($"hnsw.ef_search={ActiveValue},hnsw.ef_search@model-b={chosen}", await TuningAsync(database));
        var statusB = await new VectorIndexManager(dataSource).GetStatusAsync("model-b");
        Assert.Equal((chosen, true), (statusB.SearchValue, statusB.SearchNote!.Contains("of model-b", StringComparison.Ordinal)));
        Assert.Equal(ActiveValue, (await new VectorIndexManager(dataSource).GetStatusAsync()).SearchValue);

        await database.ExecuteAsync("SELECT gallery.promote_model(1.0)");
        Assert.Equal($"hnsw.ef_search={chosen},hnsw.ef_search@{modelA}={ActiveValue}", await TuningAsync(database));

        await database.ExecuteAsync("SELECT gallery.rollback_model()");
        Assert.Equal($"hnsw.ef_search={ActiveValue},hnsw.ef_search@model-b={chosen}", await TuningAsync(database));

        await database.ExecuteAsync("SELECT gallery.drop_model('model-b', true)");
        Assert.Equal($"hnsw.ef_search={ActiveValue}", await TuningAsync(database));
    }

    [Fact]
    public async Task PromoteNeverTunedModel_SearchesGetPgvectorsDefaults_NotTheOldModelsSetting()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync($"""
            SELECT gallery.ensure_active_model('model-a', 3);
            INSERT INTO gallery.settings (key, value) VALUES ('hnsw.ef_search', '{ActiveValue}');
            SELECT gallery.stage_model('model-b', 2, '/models/b', 'immich');
            SELECT gallery.promote_model(1.0);
            """);

        Assert.Equal($"hnsw.ef_search@model-a={ActiveValue}", await TuningAsync(database));
    }

    private static Task<string?> TuningAsync(TestDatabase database) => database.ScalarAsync<string>(
        "SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM gallery.settings WHERE key LIKE 'hnsw.%' OR key LIKE 'ivfflat.%'");
}
