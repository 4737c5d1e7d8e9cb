using System.Text.Json;
using DbFirst.Tests.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Runner;

public sealed class IngestCommandTests
{
    [Fact]
    public async Task Json_PrintsOnlyTheSummaryObject_WithTheDocumentedKeysInOrder()
    {
        using var folder = new ScratchFolder();
        var bytes = TestImages.Jpeg(10, 10, seed: 1);
        folder.Write("a.jpg", bytes);
        folder.Write("b/a again.jpg", bytes);
        folder.WriteText("notes.jpg", "text");
        var broken = folder.Write("broken.png", TestImages.Png(10, 10)[..20]);
        await using var database = await TestDatabase.CreateAsync();

        var run = await CliRun.InvokeAsync("ingest", folder.Root, "--json", "--connection", database.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Error);
        Assert.Single(run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(run.Out);
        var keys = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(["scanned", "added", "updated", "unchanged", "unsupported", "failed", "missing", "pruned", "duplicates"], keys[..9]);
        var root = json.RootElement;
        Assert.Equal(4, root.GetProperty("scanned").GetInt64());
        Assert.Equal(2, root.GetProperty("added").GetInt64());
        Assert.Equal(0, root.GetProperty("updated").GetInt64());
        Assert.Equal(0, root.GetProperty("unchanged").GetInt64());
        Assert.Equal(1, root.GetProperty("unsupported").GetInt64());
        var failure = Assert.Single(root.GetProperty("failed").EnumerateArray());
        Assert.Equal(["path", "error"], failure.EnumerateObject().Select(p => p.Name));
        Assert.Equal(broken, failure.GetProperty("path").GetString());
        Assert.Empty(root.GetProperty("missing").EnumerateArray());
        Assert.Equal(0, root.GetProperty("pruned").GetInt64());
        var group = Assert.Single(root.GetProperty("duplicates").EnumerateArray());
        Assert.Equal([Path.Combine(folder.Root, "a.jpg"), Path.Combine(folder.Root, "b/a again.jpg")], group.EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task WithoutJson_WritesAShortSummaryToStderr_AndNothingToStdout()
    {
        using var folder = new ScratchFolder();
        folder.Write("a.png", TestImages.Png(10, 10, seed: 1));
        var gone = folder.Write("gone.png", TestImages.Png(10, 10, seed: 2));
        await using var database = await TestDatabase.CreateAsync();
        await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString);
        File.Delete(gone);

        var run = await CliRun.InvokeAsync("ingest", folder.Root, "--prune", "--connection", database.ConnectionString);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        Assert.Contains("scanned 1 files: 0 added, 0 updated, 1 unchanged", run.Error);
        Assert.Contains("pruned 1 rows", run.Error);
        Assert.Contains($"missing: {gone}", run.Error);
    }

    [Fact]
    public async Task UnmigratedDatabase_GivesOneClearLine()
    {
        using var folder = new ScratchFolder();
        await using var database = await TestDatabase.CreateAsync(migrate: false);

        var run = await CliRun.InvokeAsync("ingest", folder.Root, "--json", "--connection", database.ConnectionString);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(string.Empty, run.Out);
        Assert.StartsWith("dbfirst: the database has no gallery.image_gallery table: run `dbfirst migrate up` first", run.Error);
    }

    [Fact]
    public async Task MissingFolder_ExitsWith1()
    {
        var run = await CliRun.InvokeAsync("ingest", "/no/such/folder", "--connection", "Host=127.0.0.1;Port=1;Database=x;Username=u;Password=p;Timeout=1");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("/no/such/folder", run.Error);
    }
}
