using DbFirst.Clip;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class ActiveModelTextEmbedderTests
{
    [Fact]
    public async Task EmbedWithModel_PromoteAndRollback_FollowsTheActiveModelWithoutARestart()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync($"""
            SELECT gallery.ensure_active_model('tiny-clip-test', 512);
            SELECT gallery.stage_model('tiny-clip-test-384', 384, '{TestPaths.TinyClip384Model}', 'immich');
            """);
        await using var dataSource = database.CreateDataSource();
        using var configured = ClipModel.Load(TestPaths.TinyClipModel);
        using var embedder = new ActiveModelTextEmbedder(dataSource, configured);

        var before = embedder.EmbedWithModel("a red photo");
        await database.ExecuteAsync("SELECT gallery.promote_model(1.0)");
        var promoted = embedder.EmbedWithModel("a red photo");
        await database.ExecuteAsync("SELECT gallery.rollback_model()");
        var rolledBack = embedder.EmbedWithModel("a red photo");

        Assert.Equal(("tiny-clip-test", "tiny-clip-test", 512), (before.ActiveModel, before.Model, before.Embedding.Length));
        Assert.Equal(("tiny-clip-test-384", "tiny-clip-test-384", 384), (promoted.ActiveModel, promoted.Model, promoted.Embedding.Length));
        Assert.Equal(("tiny-clip-test", "tiny-clip-test", 512), (rolledBack.ActiveModel, rolledBack.Model, rolledBack.Embedding.Length));
        Assert.Equal(before.Embedding, rolledBack.Embedding);
    }

    [Fact]
    public async Task EmbedWithModel_ActiveModelFilesMissing_KeepsAnsweringWithTheModelItHolds()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.ExecuteAsync("""
            SELECT gallery.ensure_active_model('tiny-clip-test', 512);
            SELECT gallery.stage_model('elsewhere', 384, '/nonexistent/dbfirst-model', 'immich');
            SELECT gallery.promote_model(1.0);
            """);
        await using var dataSource = database.CreateDataSource();
        using var configured = ClipModel.Load(TestPaths.TinyClipModel);
        using var embedder = new ActiveModelTextEmbedder(dataSource, configured);

        var answer = embedder.EmbedWithModel("a red photo");

        // The active model it read goes with the vector, so the search refuses it without reading the registry again.
        Assert.Equal(("elsewhere", "tiny-clip-test", 512), (answer.ActiveModel, answer.Model, answer.Embedding.Length));
    }
}
