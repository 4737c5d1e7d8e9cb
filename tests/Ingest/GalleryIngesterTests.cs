using System.Security.Cryptography;
using DbFirst.Ingest;
using DbFirst.Tests.Support;
using Npgsql;

namespace DbFirst.Tests.Ingest;

public sealed class GalleryIngesterTests
{
    private const string RowSql = """
        SELECT media_type, width, height, byte_size, content_sha256, taken_at,
               NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e WHERE e.image_id = g.id), embed_attempts, embed_error, description
        FROM gallery.image_gallery g WHERE path = @path
        """;

    [Fact]
    public async Task HostileFolder_RegistersEveryGoodImage_AndReportsEveryBadOne()
    {
        using var folder = new ScratchFolder();
        var goodJpeg = folder.Write("good.jpg", TestImages.Jpeg(64, 48, seed: 1));
        var goodPng = folder.Write("good.png", TestImages.Png(40, 30, seed: 2));
        var webp = folder.Write("pictures/photo.webp", TestImages.Webp(20, 10, seed: 3));
        var bmp = folder.Write("pictures/scan.bmp", IngestFixtures.Bmp(7, 5));
        var unicode = folder.Write("pictures/café 写真 \"quoted\" it's.png", TestImages.Png(12, 9, seed: 4));
        var jpegNamedPng = folder.Write("jpeg-named.png", TestImages.Jpeg(33, 22, seed: 6));
        var cmyk = folder.Write("cmyk.jpg", IngestFixtures.CmykJpeg);
        var png16 = folder.Write("rgb16.png", TestPng.Rgb16(6, 4));
        var gif = folder.Write("animated.gif", IngestFixtures.AnimatedGif());
        var rotated = folder.Write("rotated.jpg", TestImages.RotatedJpegWithCaptureTime(64, 48, "2021:06:01 10:20:30", "+02:00"));
        var bomb = folder.Write("bomb.png", TestPng.WithHeader(60000, 60000));
        var insideDirectoryNamedJpg = folder.Write("x.jpg/inside.png", TestImages.Png(8, 8, seed: 7));
        var fullJpeg = TestImages.Jpeg(64, 64, seed: 8);
        var truncatedScan = folder.Write("truncated-scan.jpg", fullJpeg[..(fullJpeg.Length * 3 / 4)]);
        var truncatedHeader = folder.Write("truncated-header.jpg", fullJpeg[..120]);
        folder.Write("empty.jpg", []);
        folder.WriteText("notes.jpg", "not a photo, just text that ends in .jpg\n");
        folder.Link("loop", folder.Root);
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();

        var report = await new GalleryIngester(dataSource).IngestAsync(new IngestOptions([folder.Root]));

        Assert.True(report.Failed.Count == 1, report.ToJson());
        Assert.Equal(16, report.Scanned);
        Assert.Equal(13, report.Added);
        Assert.Equal(0, report.Updated);
        Assert.Equal(0, report.Unchanged);
        Assert.Equal(2, report.Unsupported);
        Assert.Equal(1, report.SymlinksSkipped);
        var failure = Assert.Single(report.Failed);
        Assert.Equal(truncatedHeader, failure.Path);
        Assert.Contains("header", failure.Error);
        Assert.Empty(report.Missing);
        Assert.Empty(report.Duplicates);

        await AssertRowAsync(dataSource, goodJpeg, "image/jpeg", 64, 48);
        await AssertRowAsync(dataSource, goodPng, "image/png", 40, 30);
        await AssertRowAsync(dataSource, webp, "image/webp", 20, 10);
        await AssertRowAsync(dataSource, bmp, "image/bmp", 7, 5);
        await AssertRowAsync(dataSource, unicode, "image/png", 12, 9);
        await AssertRowAsync(dataSource, jpegNamedPng, "image/jpeg", 33, 22);
        await AssertRowAsync(dataSource, cmyk, "image/jpeg", 16, 16);
        await AssertRowAsync(dataSource, png16, "image/png", 6, 4);
        await AssertRowAsync(dataSource, gif, "image/gif", 3, 2);
        await AssertRowAsync(dataSource, insideDirectoryNamedJpg, "image/png", 8, 8);

        // Orientation 6: stored 64×48, shown 48×64; the capture time's +02:00 offset is honoured.
        var rotatedRow = await AssertRowAsync(dataSource, rotated, "image/jpeg", 48, 64);
        Assert.Equal(new DateTime(2021, 6, 1, 8, 20, 30, DateTimeKind.Utc), rotatedRow.TakenAt);

        // Registered by its header: refusing a 3.6-gigapixel bomb is the embed step's job, which records embed_error.
        await AssertRowAsync(dataSource, bomb, "image/png", 60000, 60000);

        // Cut inside the scan data, the header is whole: registered here; the embed step reports the broken pixels.
        await AssertRowAsync(dataSource, truncatedScan, "image/jpeg", 64, 64);

        var goodRow = await AssertRowAsync(dataSource, goodJpeg, "image/jpeg", 64, 48);
        Assert.Equal(SHA256.HashData(await File.ReadAllBytesAsync(goodJpeg)), goodRow.Sha256);
        Assert.Equal(new FileInfo(goodJpeg).Length, goodRow.ByteSize);
        Assert.Null(goodRow.TakenAt);
        Assert.Equal(13L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
    }

    [Fact]
    public async Task ReRun_WithNothingChanged_WritesNothing()
    {
        using var folder = new ScratchFolder();
        for (var i = 0; i < 11; i++)
        {
            folder.Write($"set/{i}.png", TestImages.Png(10 + i, 10, seed: i));
        }

        folder.Write("rotated.jpg", TestImages.RotatedJpegWithCaptureTime(30, 20, "2020:01:02 03:04:05", "-05:00"));
        folder.WriteText("readme.txt", "hello");
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        var options = new IngestOptions([folder.Root], ChunkSize: 4);
        var first = await ingester.IngestAsync(options);
        var before = await database.ScalarAsync<string>(XminSnapshotSql);

        var second = await ingester.IngestAsync(options);

        Assert.Equal(12, first.Added);
        Assert.Equal((0L, 0L, 12L, 1L), (second.Added, second.Updated, second.Unchanged, second.Unsupported));
        Assert.Equal(before, await database.ScalarAsync<string>(XminSnapshotSql));
    }

    [Fact]
    public async Task ChangedContent_GetsNewFacts_AndLosesEmbeddingAndDescription()
    {
        using var folder = new ScratchFolder();
        var changing = folder.Write("changing.jpg", TestImages.Jpeg(20, 20, seed: 1));
        var steady = folder.Write("steady.jpg", TestImages.Jpeg(20, 20, seed: 2));
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        await ingester.IngestAsync(new IngestOptions([folder.Root]));
        await TestEmbeddings.WriteAsync(database, "true", "array_fill(0.1, ARRAY[512])::vector");
        await database.ExecuteAsync("""
            UPDATE gallery.image_gallery
            SET embed_attempts = 2, embed_error = 'earlier trouble', description = 'a gradient', description_model = 'claude', described_at = now()
            """);
        var newBytes = TestImages.Png(50, 25, seed: 9);
        await File.WriteAllBytesAsync(changing, newBytes);

        var report = await ingester.IngestAsync(new IngestOptions([folder.Root]));

        Assert.Equal((0L, 1L, 1L), (report.Added, report.Updated, report.Unchanged));
        var changed = await AssertRowAsync(dataSource, changing, "image/png", 50, 25);
        Assert.Equal(SHA256.HashData(newBytes), changed.Sha256);
        Assert.Equal(newBytes.Length, changed.ByteSize);
        Assert.True(changed.EmbeddingIsNull);
        Assert.Equal(0, changed.EmbedAttempts);
        Assert.Null(changed.EmbedError);
        Assert.Null(changed.Description);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            $"SELECT count(*) FROM gallery.image_gallery g WHERE path = '{changing}' AND NOT EXISTS (SELECT 1 FROM gallery.image_embeddings e WHERE e.image_id = g.id) AND EXISTS (SELECT 1 FROM gallery.embedding_pending p WHERE p.image_id = g.id) AND description_model IS NULL AND described_at IS NULL"));
        var kept = await AssertRowAsync(dataSource, steady, "image/jpeg", 20, 20);
        Assert.False(kept.EmbeddingIsNull);
        Assert.Equal("a gradient", kept.Description);
    }

    [Fact]
    public async Task VanishedFile_IsReported_AndItsRowDeletedOnlyWithPrune()
    {
        using var folder = new ScratchFolder();
        var staying = folder.Write("a/stays.png", TestImages.Png(5, 5, seed: 1));
        var leaving = folder.Write("a/leaves.png", TestImages.Png(5, 5, seed: 2));
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        await ingester.IngestAsync(new IngestOptions([folder.Root]));
        await database.ExecuteAsync($"""
            INSERT INTO gallery.image_gallery (path) VALUES ('/elsewhere/not-scanned.jpg'), ('{folder.Root}-sibling/looks-alike.jpg')
            """);
        File.Delete(leaving);

        var reported = await ingester.IngestAsync(new IngestOptions([folder.Root]));
        var pruned = await ingester.IngestAsync(new IngestOptions([folder.Root], Prune: true));
        var afterPrune = await ingester.IngestAsync(new IngestOptions([folder.Root], Prune: true));

        Assert.Equal([leaving], reported.Missing);
        Assert.Equal(0, reported.Pruned);
        Assert.Equal([leaving], pruned.Missing);
        Assert.Equal(1, pruned.Pruned);
        Assert.Empty(afterPrune.Missing);
        Assert.Equal(0L, await database.ScalarAsync<long>($"SELECT count(*) FROM gallery.image_gallery WHERE path = '{leaving}'"));
        Assert.Equal(1L, await database.ScalarAsync<long>($"SELECT count(*) FROM gallery.image_gallery WHERE path = '{staying}'"));
        Assert.Equal(3L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
    }

    [Fact]
    public async Task SameContentAtTwoPaths_BothKept_AndReportedAsDuplicates()
    {
        using var folder = new ScratchFolder();
        var bytes = TestImages.Jpeg(16, 16, seed: 3);
        var first = folder.Write("2023/holiday.jpg", bytes);
        var second = folder.Write("backup/holiday copy.jpg", bytes);
        folder.Write("other.jpg", TestImages.Jpeg(16, 16, seed: 4));
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();

        var report = await new GalleryIngester(dataSource).IngestAsync(new IngestOptions([folder.Root]));

        Assert.Equal(3, report.Added);
        var group = Assert.Single(report.Duplicates);
        Assert.Equal([first, second], group);
    }

    [Fact]
    public async Task SymlinkLoop_WhenFollowingLinks_EndsAndRegistersEachFolderOnce()
    {
        using var folder = new ScratchFolder();
        folder.Write("a/one.png", TestImages.Png(4, 4, seed: 1));
        folder.Write("a/b/two.png", TestImages.Png(4, 4, seed: 2));
        folder.Link("a/b/up", Path.Combine(folder.Root, "a"));
        folder.Link("a/self", ".");
        folder.Link("a/dangling.png", Path.Combine(folder.Root, "nowhere.png"));
        var linkedFile = folder.Link("linked.png", Path.Combine(folder.Root, "a", "one.png"));
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();

        var report = await new GalleryIngester(dataSource).IngestAsync(new IngestOptions([folder.Root], FollowSymlinks: true));

        Assert.Equal(3, report.Added);
        Assert.Equal(0, report.SymlinksSkipped);
        var failure = Assert.Single(report.Failed);
        Assert.EndsWith("dangling.png", failure.Path);
        Assert.Equal("broken symbolic link", failure.Error);
        Assert.Contains(report.Duplicates, group => group.Contains(linkedFile));
    }

    [Fact]
    public async Task SymlinkedFolder_NotFollowed_IsNeitherWalkedNorReportedMissing()
    {
        using var folder = new ScratchFolder();
        using var elsewhere = new ScratchFolder();
        elsewhere.Write("far.png", TestImages.Png(4, 4, seed: 1));
        folder.Write("near.png", TestImages.Png(4, 4, seed: 2));
        folder.Link("far", elsewhere.Root);
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();
        var ingester = new GalleryIngester(dataSource);
        var followed = await ingester.IngestAsync(new IngestOptions([folder.Root], FollowSymlinks: true));

        var notFollowed = await ingester.IngestAsync(new IngestOptions([folder.Root], Prune: true));

        Assert.Equal(2, followed.Added);
        Assert.Equal(1, notFollowed.SymlinksSkipped);
        Assert.Equal(1, notFollowed.Unchanged);
        Assert.Empty(notFollowed.Missing);
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.image_gallery"));
    }

    [Fact]
    public async Task AbsentRoot_IsRefused_BeforeAnythingIsWritten()
    {
        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();

        var error = await Assert.ThrowsAsync<GalleryException>(() =>
            new GalleryIngester(dataSource).IngestAsync(new IngestOptions(["/no/such/folder"], Prune: true)));

        Assert.Contains("/no/such/folder", error.Message);
    }

    [RealPhotosFact]
    public async Task RealPhotos_AreRegisteredWithTheirHeaderDimensions()
    {
        using var folder = new ScratchFolder();
        foreach (var name in new[] { "chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "truncated.jpg" })
        {
            File.Copy(Path.Combine(RealPhotosFactAttribute.Folder, name), Path.Combine(folder.Root, name));
        }

        await using var database = await TestDatabase.CreateAsync();
        await using var dataSource = database.CreateDataSource();

        var report = await new GalleryIngester(dataSource).IngestAsync(new IngestOptions([folder.Root]));

        Assert.Equal(5, report.Added);
        await AssertRowAsync(dataSource, Path.Combine(folder.Root, "chelsea.png"), "image/png", 451, 300);
        await AssertRowAsync(dataSource, Path.Combine(folder.Root, "astronaut.png"), "image/png", 512, 512);
        await AssertRowAsync(dataSource, Path.Combine(folder.Root, "coffee.png"), "image/png", 600, 400);
        await AssertRowAsync(dataSource, Path.Combine(folder.Root, "rocket.jpg"), "image/jpeg", 640, 427);
        await AssertRowAsync(dataSource, Path.Combine(folder.Root, "motorcycle_left.png"), "image/png", 741, 500);

        // skimage's truncated.jpg stops inside its Huffman tables, before the frame can be read.
        var failure = Assert.Single(report.Failed);
        Assert.EndsWith("truncated.jpg", failure.Path);
    }

    private const string XminSnapshotSql = "SELECT string_agg(id || ':' || xmin::text, ',' ORDER BY id) FROM gallery.image_gallery";

    private static async Task<Row> AssertRowAsync(NpgsqlDataSource dataSource, string path, string mediaType, int width, int height)
    {
        await using var command = dataSource.CreateCommand(RowSql);
        command.Parameters.AddWithValue("path", path);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row for {path}");
        var row = new Row(
            reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetFieldValue<byte[]>(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTime>(5), reader.GetBoolean(6), reader.GetInt32(7),
            reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9));
        Assert.Equal((mediaType, width, height), (row.MediaType, row.Width, row.Height));
        return row;
    }

    private sealed record Row(
        string MediaType, int Width, int Height, long ByteSize, byte[] Sha256, DateTime? TakenAt,
        bool EmbeddingIsNull, int EmbedAttempts, string? EmbedError, string? Description);
}
