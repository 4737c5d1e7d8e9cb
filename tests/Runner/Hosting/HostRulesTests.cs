using DbFirst.Runner.Hosting;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class HostRulesTests
{
    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.8.9.10", true)]
    [InlineData("[::1]", true)]
    [InlineData("gallery-box", true)]
    [InlineData("evil.example", false)]
    [InlineData("127.0.0.1.evil.example", false)]
    [InlineData("10.0.0.5", false)]
    public void LocalOnly_KnowsLoopbackAndTheNamesInUrls(string host, bool known)
    {
        var rules = HostRules.Create(allowedHosts: null, "http://127.0.0.1:5000;http://gallery-box:5001", hasCredentials: false);

        Assert.Equal(known, rules.IsKnown(host));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", "127.0.0.1:5000", true)]
    [InlineData("http://127.0.0.1:5001", "127.0.0.1:5000", false)]
    [InlineData("http://localhost:5000", "127.0.0.1:5000", false)]
    [InlineData("http://evil.example", "127.0.0.1:5000", false)]
    [InlineData("null", "127.0.0.1:5000", false)]
    [InlineData("https://gallery.example.com", "127.0.0.1:5000", true)]
    [InlineData("https://gallery.example.com.evil.example", "127.0.0.1:5000", false)]
    public void Origin_IsOwnOnlyForTheSameHostAndPort_OrAConfiguredPublicName(string origin, string requestHost, bool own)
    {
        var rules = HostRules.Create("gallery.example.com", "http://127.0.0.1:5000", hasCredentials: true);

        Assert.Equal(own, rules.IsOwnOrigin(origin, requestHost));
    }

    [Fact]
    public void AllowedHosts_WithoutCredentials_AreRefused()
    {
        var error = Assert.Throws<GalleryException>(() => HostRules.Create("gallery.example.com", "http://127.0.0.1:5000", hasCredentials: false));

        Assert.Contains("Dashboard:Username", error.Message);
    }
}
