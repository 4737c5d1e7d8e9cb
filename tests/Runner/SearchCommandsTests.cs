using System.Text.Json;
using DbFirst.Indexing;
using DbFirst.Tests.Support;
using SkiaSharp;

namespace DbFirst.Tests.Runner;

/// <summary><c>dbfirst search|similar|duplicates|index</c> through the command line.</summary>
public sealed class SearchCommandsTests : IClassFixture<SearchGalleryFixture>
{
    private readonly SearchGalleryFixture _gallery;

    public SearchCommandsTests(SearchGalleryFixture gallery) => _gallery = gallery;

    private string Connection => _gallery.Database.ConnectionString;

    [Fact]
    public async Task SimilarJson_PrintsOnlyIdPathDistance_NearestFirst()
    {
        var source = _gallery.Rows[10];

        var run = await CliRun.InvokeAsync("similar", source.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", "4", "--json", "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        var hits = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, hits.Count);
        Assert.All(hits, hit => Assert.Equal(["id", "path", "distance"], hit.EnumerateObject().Select(p => p.Name)));
        var distances = hits.Select(hit => hit.GetProperty("distance").GetDouble()).ToList();
        Assert.Equal(distances.Order(), distances);
        Assert.DoesNotContain(source.Id, hits.Select(hit => hit.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task SearchJson_EmbedsTheTextWithClip_AndPrintsKHits()
    {
        var run = await CliRun.InvokeAsync("search", "a red photo", "-k", "5", "--json", "--model", TestPaths.TinyClipModel, "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, JsonDocument.Parse(run.Out).RootElement.GetArrayLength());
        Assert.Contains("tiny test model", run.Error);
    }

    [Fact]
    public async Task Similar_OfUnknownImage_GivesOneLine_AndExitCode1()
    {
        var run = await CliRun.InvokeAsync("similar", "99999999", "--connection", Connection);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("dbfirst: no image with id 99999999", run.Error.Trim());
    }

    [Fact]
    public async Task DuplicatesJson_ListsThePlantedPairs()
    {
        var run = await CliRun.InvokeAsync("duplicates", "--max-distance", "0.01", "--json", "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        var pairs = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, pairs.Count);
        Assert.All(pairs, pair => Assert.True(pair.GetProperty("id_a").GetInt64() < pair.GetProperty("id_b").GetInt64()));
    }

    [Fact]
    public async Task Duplicates_SaysWhatIsNotCovered_AndRefreshFillsItIn()
    {
        var pending = await _gallery.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending");
        var before = await CliRun.InvokeAsync("duplicates", "--connection", Connection);
        var refreshed = await CliRun.InvokeAsync("duplicates", "--refresh", "--connection", Connection);

        Assert.Equal(0, before.ExitCode);
        if (pending > 0)
        {
            Assert.Contains("have no stored neighbours yet", before.Error, StringComparison.Ordinal);
        }

        Assert.Equal(0, refreshed.ExitCode);
        Assert.Contains("queued image(s)", refreshed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("have no stored neighbours yet", refreshed.Error, StringComparison.Ordinal);
        Assert.Contains("4 near-duplicate pair(s)", refreshed.Error, StringComparison.Ordinal);
        Assert.Equal(0L, await _gallery.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.neighbour_pending"));
    }

    [Fact]
    public async Task IndexRebuildPlanJson_PrintsThePlan_AndBuildsNothing()
    {
        var builds = await _gallery.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds");

        var run = await CliRun.InvokeAsync("index", "rebuild", "--plan", "--json", "--m", "8", "--ef-construction", "32", "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        var plan = JsonDocument.Parse(run.Out).RootElement.GetProperty("plan");
        Assert.Equal("hnsw", plan.GetProperty("method").GetString());
        Assert.Equal(_gallery.Rows.Count, plan.GetProperty("rows").GetInt64());
        Assert.Equal(BuildPlanner.HnswBytesPerRow(512, 8), plan.GetProperty("bytes_per_row").GetInt64());
        Assert.False(plan.GetProperty("spills").GetBoolean());
        Assert.Equal("m = 8, ef_construction = 32", plan.GetProperty("parameters").GetString());
        Assert.Equal(builds, await _gallery.Database.ScalarAsync<long>("SELECT count(*) FROM gallery.index_builds"));
    }

    [Fact]
    public async Task IndexRebuildPlanJson_AtBinaryPrecision_CountsOneBitADimension()
    {
        var run = await CliRun.InvokeAsync("index", "rebuild", "--plan", "--json", "--precision", "binary", "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        var plan = JsonDocument.Parse(run.Out).RootElement.GetProperty("plan");
        Assert.Equal("binary", plan.GetProperty("precision").GetString());
        Assert.Equal(BuildPlanner.HnswElementOverhead + (512 / 8) + (32 * 16), plan.GetProperty("bytes_per_row").GetInt64());
    }

    [Theory]
    [InlineData("--m", "1", "--m must be between 2 and 100, not 1")]
    [InlineData("--m", "40", "--ef-construction must be between 2 x m (80) and 1000, not 64")]
    [InlineData("--ef-construction", "2000", "--ef-construction must be between 2 x m (32) and 1000, not 2000")]
    [InlineData("--lists", "10", "--lists applies to ivfflat, not hnsw")]
    [InlineData("--type", "ivfflat", "--m and --ef-construction apply to hnsw, not ivfflat", "--m", "8")]
    [InlineData("--type", "ivfflat", "--lists must be between 1 and 32768, not 0", "--lists", "0")]
    [InlineData("--type", "ivfflat", "--precision binary applies to hnsw, not ivfflat", "--precision", "binary")]
    public async Task IndexRebuild_RefusesFlagsOutsidePgvectorsLimits_InOneLine_BeforeConnecting(string flag, string value, string message, params string[] more)
    {
        // Nothing listens on port 1: the flags must be refused before any connection is tried.
        var run = await CliRun.InvokeAsync(["index", "rebuild", "--plan", flag, value, .. more, "--connection", "Host=127.0.0.1;Port=1;Username=nobody;Database=none"]);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("PostgreSQL", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IndexStatusJson_DescribesTheHnswIndex()
    {
        var run = await CliRun.InvokeAsync("index", "status", "--json", "--connection", Connection);

        Assert.Equal(0, run.ExitCode);
        var status = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal("hnsw", status.GetProperty("method").GetString());
        Assert.Equal("m = 16, ef_construction = 64", status.GetProperty("parameters").GetString());
        Assert.Equal(_gallery.Rows.Count, status.GetProperty("rows").GetInt64());
        Assert.Equal("hnsw.ef_search", status.GetProperty("search_setting").GetString());
    }

    [Fact]
    public async Task SimilarHtml_WritesOneSelfContainedPage_WithInlinedThumbnails()
    {
        await using var database = await TestDatabase.CreateAsync();
        var folder = Directory.CreateTempSubdirectory("dbfirst-html-");
        try
        {
            var colours = new[] { SKColors.Red, SKColors.DarkRed, SKColors.Blue, SKColors.Green };
            var vectors = SyntheticGallery.GaussianMixture(colours.Length, 512, 1, seed: 4);
            for (var i = 0; i < colours.Length; i++)
            {
                var path = Path.Combine(folder.FullName, $"image{i}.png");
                using (var bitmap = new SKBitmap(900, 600))
                {
                    bitmap.Erase(colours[i]);
                    using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                    await File.WriteAllBytesAsync(path, data.ToArray());
                }

                await database.ExecuteAsync($"INSERT INTO gallery.image_gallery (path) VALUES ('{path}')");
                await TestEmbeddings.WriteAsync(database, $"g.path = '{path}'", $"'[{string.Join(",", vectors[i].Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]'::vector");
            }

            var firstId = await database.ScalarAsync<long>("SELECT min(id) FROM gallery.image_gallery");
            var page = Path.Combine(folder.FullName, "out", "similar.html");

            var run = await CliRun.InvokeAsync("similar", firstId.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", "3", "--html", page, "--connection", database.ConnectionString);

            Assert.Equal(0, run.ExitCode);
            var html = await File.ReadAllTextAsync(page);
            Assert.Contains($"Similar to image #{firstId}", html);
            Assert.Equal(4, html.Split("src=\"data:image/jpeg;base64,").Length - 1);
            Assert.DoesNotContain("cannot show", html);
            Assert.DoesNotContain("src=\"/", html);
            Assert.True(html.Length < 200_000, $"page is {html.Length} bytes: thumbnails are not downscaled");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
