using System.Text.Json;
using DbFirst.Indexing;

namespace DbFirst.Tests.Indexing;

public sealed class IndexParametersTests
{
    [Theory]
    [InlineData("hnsw", "m=8, ef_construction=40", "m = 8, ef_construction = 40")]
    [InlineData("hnsw", "m = 12, ef_construction = 48", "m = 12, ef_construction = 48")]
    [InlineData("hnsw", "", "m = 16, ef_construction = 64")]
    [InlineData("hnsw", "m=4", "m = 4, ef_construction = 64")]
    [InlineData("ivfflat", "lists=4", "lists = 4")]
    [InlineData("ivfflat", null, "lists = 100")]
    public void Parse_ReadsReloptionsAndHistory_WithPgvectorsDefaultsForWhatIsMissing(string method, string? text, string expected)
    {
        var parameters = IndexParameters.Parse(method, text);

        Assert.NotNull(parameters);
        Assert.Equal(method, parameters.Method);
        Assert.Equal(expected, parameters.ToString());
    }

    [Fact]
    public void Parse_OfAnotherMethod_IsNull() => Assert.Null(IndexParameters.Parse("btree", "fillfactor=90"));

    [Fact]
    public void Parse_RoundTripsItsOwnText()
    {
        IndexParameters[] all = [new HnswParameters(8, 32), new IvfflatParameters(7)];

        foreach (var parameters in all)
        {
            Assert.Equal(parameters, IndexParameters.Parse(parameters.Method, parameters.ToString()));
        }
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(101, 1000)]
    [InlineData(16, 31)]
    [InlineData(16, 1001)]
    public void Hnsw_OutsidePgvectorsLimits_IsRefused(int m, int efConstruction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswParameters(m, efConstruction));

    [Theory]
    [InlineData(0)]
    [InlineData(32769)]
    public void Ivfflat_OutsidePgvectorsLimits_IsRefused(int lists) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new IvfflatParameters(lists));

    [Fact]
    public void Json_CarriesTheText_AsStatusAlwaysPrintedIt()
    {
        var build = new IndexBuild("ivfflat", new IvfflatParameters(4), "create", 4000, 0, 1.5, 8192, DateTimeOffset.UnixEpoch);

        var json = JsonDocument.Parse(JsonSerializer.Serialize(build)).RootElement;

        Assert.Equal("lists = 4", json.GetProperty("Parameters").GetString());
        Assert.Equal(build, JsonSerializer.Deserialize<IndexBuild>(json.GetRawText()));
    }

    [Theory]
    [InlineData(null, 2000L, "ivfflat", null)]
    [InlineData(null, 500L, "hnsw", null)]
    [InlineData(12, 500L, "hnsw", 12)]
    public void Recreating_KeepsHnswParameters_AndLetsIvfflatListsFollowTheRows(int? m, long rows, string method, int? expectedM)
    {
        IndexParameters parameters = m is null ? new IvfflatParameters(3) : new HnswParameters(m.Value, 48);

        var options = IndexBuildOptions.Recreating(parameters, rows);

        Assert.Equal(method, options.Method);
        Assert.Equal(expectedM, options.M);
        Assert.Null(options.Lists);
    }
}
