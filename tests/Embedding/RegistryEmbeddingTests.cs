using DbFirst.Clip;
using DbFirst.Embedding;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Embedding;

/// <summary>
/// What <c>dbfirst embed</c> and the <c>embed-pending</c> job run: the active model first, then the staged model's
/// backfill, each model loaded from its registered folder once per process.
/// </summary>
public sealed class RegistryEmbeddingTests : IDisposable
{
    private const int Images = 6;
    private const string Staged = "tiny-clip-test-384";

    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-registry-embedding-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Run_StagedModelWithFolder_EmbedsNewImagesForTheActiveModelThenBackfills_LoadingTheStagedModelOnce()
    {
        await using var database = await GalleryAsync(Images);
        await using var dataSource = database.CreateDataSource();
        var active = new CountingEmbedder("active", decodeImages: true);
        var loads = new List<string>();
        using var embedding = new RegistryEmbedding(dataSource, active, new EmbeddingOptions { BatchSize = 4 }, load: directory =>
        {
            loads.Add(directory);
            return ClipModel.Load(directory);
        });
        await embedding.RunAsync(new EmbeddingRequest());
        await database.ExecuteAsync($"SELECT gallery.stage_model('{Staged}', 384, '{TestPaths.TinyClip384Model}', 'immich')");
        await GalleryRows.InsertAsync(database, WriteJpegs(2, "new"));

        var first = await embedding.RunAsync(new EmbeddingRequest());
        await GalleryRows.InsertAsync(database, WriteJpegs(1, "later"));
        var second = await embedding.RunAsync(new EmbeddingRequest());

        Assert.Equal(("active", 2, Staged, Images + 2), (first.Active.Model, first.Active.Embedded, first.Staged?.Model, first.Staged?.Embedded));
        Assert.Equal((1, 1), (second.Active.Embedded, second.Staged?.Embedded));
        Assert.Empty(first.Problems);
        Assert.Equal([TestPaths.TinyClip384Model], loads);
        Assert.Equal(Images + 3, active.EncodedRows);
        Assert.Equal($"active:{Images + 3}:{Images + 3},{Staged}:{Images + 3}:{Images + 3}", await database.ScalarAsync<string>(
            "SELECT string_agg(name || ':' || embedded || ':' || total, ',' ORDER BY model_id) FROM gallery.model_coverage()"));
    }

    [Fact]
    public async Task Run_StagedModelFilesMissing_OneLineNamesThem_AndTheActiveModelStillEmbeds()
    {
        await using var database = await GalleryAsync(Images);
        await using var dataSource = database.CreateDataSource();
        using var embedding = new RegistryEmbedding(dataSource, new CountingEmbedder("active"), new EmbeddingOptions());
        await embedding.RunAsync(new EmbeddingRequest());
        await database.ExecuteAsync("SELECT gallery.stage_model('elsewhere', 384, '/nonexistent/dbfirst-model', 'immich')");
        await GalleryRows.InsertAsync(database, WriteJpegs(2, "new"));

        var result = await embedding.RunAsync(new EmbeddingRequest());

        Assert.Equal(2, result.Active.Embedded);
        Assert.Null(result.Staged);
        var problem = Assert.Single(result.Problems);
        Assert.StartsWith("cannot load the staged model elsewhere from /nonexistent/dbfirst-model: ", problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public async Task Run_StagedFolderHoldsAnotherModel_RefusesItInOneLineNamingBoth()
    {
        await using var database = await GalleryAsync(2);
        await using var dataSource = database.CreateDataSource();
        using var embedding = new RegistryEmbedding(dataSource, new CountingEmbedder("active"), new EmbeddingOptions());
        await embedding.RunAsync(new EmbeddingRequest());
        await database.ExecuteAsync($"SELECT gallery.stage_model('claimed-384', 384, '{TestPaths.TinyClip384Model}', 'immich')");

        var result = await embedding.RunAsync(new EmbeddingRequest());

        Assert.Null(result.Staged);
        Assert.Equal(
            $"cannot load the staged model claimed-384 from {TestPaths.TinyClip384Model}: the model in {TestPaths.TinyClip384Model} is {Staged} (384-d), but the registry expects claimed-384 (384-d); point --model or Clip__ModelPath at claimed-384's files",
            Assert.Single(result.Problems));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT embedded FROM gallery.model_coverage() WHERE name = 'claimed-384'"));
    }

    [Fact]
    public async Task Run_ActiveModelFromItsFolder_WorkerConfiguredWithTheOldModel_FollowsThePromote()
    {
        await using var database = await GalleryAsync(3);
        await using var dataSource = database.CreateDataSource();
        using var embedding = new RegistryEmbedding(dataSource, new CountingEmbedder("old"), new EmbeddingOptions());
        await embedding.RunAsync(new EmbeddingRequest());
        await database.ExecuteAsync($"SELECT gallery.stage_model('{Staged}', 384, '{TestPaths.TinyClip384Model}', 'immich')");
        await embedding.RunAsync(new EmbeddingRequest());
        Assert.Equal(0, (await CliRun.InvokeAsync("index", "rebuild", "--model", Staged, "--connection", database.ConnectionString)).ExitCode);
        await database.ExecuteAsync("SELECT gallery.promote_model(1.0)");
        await GalleryRows.InsertAsync(database, WriteJpegs(1, "after"));

        var result = await embedding.RunAsync(new EmbeddingRequest());

        Assert.Equal((Staged, 1), (result.Active.Model, result.Active.Embedded));
        Assert.Null(result.Staged);
    }

    private async Task<TestDatabase> GalleryAsync(int images)
    {
        var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, WriteJpegs(images, "img"));
        return database;
    }

    private IReadOnlyList<string> WriteJpegs(int count, string prefix) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var path = Path.Combine(_directory, $"{prefix}-{i}.jpg");
            TestImages.WriteJpeg(path, 48, 40, seed: Path.GetFileName(path).Sum(c => c) * 31 + i);
            return path;
        }).ToList();
}
