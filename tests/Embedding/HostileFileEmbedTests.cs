using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using DbFirst.Embedding;
using DbFirst.Ingest;
using DbFirst.Tests.Ingest;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Embedding;

/// <summary>
/// Ingested files replaced by something hostile before the embed step reads them again: each ends as its row's
/// recorded error while the rest of the batch is embedded, and the run returns.
/// </summary>
public sealed class HostileFileEmbedTests
{
    [Fact]
    public async Task FifoSocketAndSwappedSymlink_EachARecordedError_RestEmbedded_EmbedReturns()
    {
        using var folder = new ScratchFolder();
        var paths = Enumerable.Range(0, 6).Select(i => folder.Write($"{i}.jpg", TestImages.Jpeg(64, 48, seed: i))).ToList();
        var elsewhere = folder.Write("../" + Path.GetFileName(folder.Root) + "-other.jpg", TestImages.Jpeg(64, 48, seed: 99));
        await using var database = await TestDatabase.CreateAsync();
        Assert.Equal(0, (await CliRun.InvokeAsync("ingest", folder.Root, "--connection", database.ConnectionString)).ExitCode);

        File.Delete(paths[0]);
        MakeFifo(paths[0]);
        File.Delete(paths[1]);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(paths[1]));
        File.Delete(paths[2]);
        File.CreateSymbolicLink(paths[2], elsewhere);
        File.WriteAllBytes(paths[3], TestImages.Jpeg(64, 48, seed: 42));

        try
        {
            using var embed = DbFirstProcess.Start(
                new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" },
                "embed", "--json", "--model", TestPaths.TinyClipModel, "--connection", database.ConnectionString);
            var (exitCode, stdout, stderr) = await embed.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.True(exitCode == 0, stderr);
            using var summary = JsonDocument.Parse(stdout);
            Assert.Equal(2, summary.RootElement.GetProperty("embedded").GetInt32());
            Assert.Equal("not a regular file (a FIFO)", await ErrorAsync(database, paths[0], permanent: true));
            Assert.Equal("not a regular file (a socket)", await ErrorAsync(database, paths[1], permanent: true));
            Assert.Equal("a symbolic link now, not the file that was ingested", await ErrorAsync(database, paths[2], permanent: true));
            Assert.StartsWith("changed since ingest", await ErrorAsync(database, paths[3], permanent: true));
            Assert.Equal(2L, await TestEmbeddings.CountAsync(database));

            // The changed file waits for ingest, which sees new content and makes it pending again.
            Assert.Null(await database.ScalarAsync<byte[]>($"SELECT content_sha256 FROM gallery.image_gallery WHERE path = '{paths[3]}'"));
            await CliRun.InvokeAsync("ingest", paths[3], "--connection", database.ConnectionString);
            Assert.Equal(1L, await database.ScalarAsync<long>(
                $"SELECT count(*) FROM gallery.image_gallery WHERE path = '{paths[3]}' AND embed_error IS NULL AND NOT embed_error_permanent AND content_sha256 IS NOT NULL"));
        }
        finally
        {
            File.Delete(elsewhere);
        }
    }

    [Fact]
    public async Task ImageFolderOfflineLongerThanTheOldRetryWindow_HealsByItselfOnceBack()
    {
        using var folder = new ScratchFolder();
        var share = folder.CreateDirectory("share");
        for (var i = 0; i < 5; i++)
        {
            folder.Write($"share/{i}.png", TestImages.Png(8, 8, seed: i));
        }

        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        await new GalleryIngester(dataSource).IngestAsync(new IngestOptions([share]));
        var options = new EmbeddingOptions { RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200) };
        var embedder = new CountingEmbedder(decodeImages: true);
        var pipeline = new EmbeddingPipeline(dataSource, embedder, options);

        // The mount goes away for longer than the old three attempts.
        Directory.Move(share, share + "-offline");
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await WaitForNextAttemptAsync(database);
            var offline = await pipeline.RunAsync(new EmbeddingRequest());
            Assert.Equal(0, offline.Embedded);
            Assert.Equal(5, offline.FailedTransiently);
        }

        Assert.Equal(5L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM gallery.image_gallery WHERE embed_attempts = 5 AND NOT embed_error_permanent AND embed_error = 'file not found' AND embed_next_attempt_at IS NOT NULL"));
        Directory.Move(share + "-offline", share);

        await WaitForNextAttemptAsync(database);
        var back = await pipeline.RunAsync(new EmbeddingRequest());

        Assert.Equal(5, back.Embedded);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT (SELECT count(*) FROM gallery.embedding_pending) + (SELECT count(*) FROM gallery.image_gallery WHERE embed_error IS NOT NULL)"));
    }

    private static async Task WaitForNextAttemptAsync(TestDatabase database)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery WHERE embed_next_attempt_at > now()") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the back-off never ended");
            await Task.Delay(20);
        }
    }

    private static async Task<string?> ErrorAsync(TestDatabase database, string path, bool permanent)
    {
        Assert.Equal(permanent, await database.ScalarAsync<bool>($"SELECT embed_error_permanent FROM gallery.image_gallery WHERE path = '{path}'"));
        return await database.ScalarAsync<string>($"SELECT embed_error FROM gallery.image_gallery WHERE path = '{path}'");
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]) ?? throw new InvalidOperationException("mkfifo did not start");
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }
}
