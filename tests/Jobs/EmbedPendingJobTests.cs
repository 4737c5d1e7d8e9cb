using System.Reflection;
using DbFirst.Clip;
using DbFirst.Embedding;
using DbFirst.Jobs;
using DbFirst.Runner;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Hangfire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Tests.Jobs;

public sealed class EmbedPendingJobTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-embed-job-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Job_RetriesTwice_AsItsRemarksSay()
    {
        var run = typeof(EmbedPendingJob).GetMethod(nameof(EmbedPendingJob.RunAsync))!;

        Assert.Equal(2, run.GetCustomAttribute<AutomaticRetryAttribute>()!.Attempts);
    }

    [Fact]
    public async Task Run_FromTheWorkersServices_KeepsTheActiveModelCurrentThenBackfillsTheStagedOne_WithOneRegistryEmbeddingPerProcess()
    {
        await using var database = await TestDatabase.CreateAsync();
        await GalleryRows.InsertAsync(database, Enumerable.Range(0, 3).Select(WriteJpeg).ToList());
        await database.ExecuteAsync($"""
            SELECT gallery.ensure_active_model('tiny-clip-test', 512);
            SELECT gallery.stage_model('tiny-clip-test-384', 384, '{TestPaths.TinyClip384Model}', 'immich');
            """);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Gallery"] = database.ConnectionString })
            .Build();
        var context = new RunnerContext(configuration, modelOption: null, new RunnerConsole(TextWriter.Null, TextWriter.Null, IsInteractive: false));
        using var model = ClipModel.Load(TestPaths.TinyClipModel);
        using var host = GalleryHost.BuildWorker(context, GalleryHostSettings.Read(context.Settings), model);

        var summary = await host.Services.GetRequiredService<EmbedPendingJob>().RunAsync(limit: null, CancellationToken.None);

        Assert.Matches(@"^3 embedded, 0 failed, [0-9.]+ s with tiny-clip-test; staged: 3 embedded, 0 failed, [0-9.]+ s with tiny-clip-test-384$", summary);
        Assert.Same(host.Services.GetRequiredService<RegistryEmbedding>(), host.Services.GetRequiredService<RegistryEmbedding>());
        Assert.Equal("tiny-clip-test:3:3,tiny-clip-test-384:3:3", await database.ScalarAsync<string>(
            "SELECT string_agg(name || ':' || embedded || ':' || total, ',' ORDER BY model_id) FROM gallery.model_coverage()"));
    }

    private string WriteJpeg(int seed)
    {
        var path = Path.Combine(_directory, $"photo-{seed}.jpg");
        TestImages.WriteJpeg(path, 48, 40, seed);
        return path;
    }
}
