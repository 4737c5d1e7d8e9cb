using DbFirst.Claude;
using DbFirst.Configuration;
using DbFirst.Embedding;
using DbFirst.Indexing;
using DbFirst.Jobs;
using DbFirst.Runner.Hosting;

namespace DbFirst.Tests.Configuration;

public sealed class SettingsReaderTests
{
    [Fact]
    public void MisspeltJobSwitch_IsAnError_NotAQuietlyDisabledJob()
    {
        var error = Assert.Throws<GalleryException>(() => RecurringJobCatalog.Read(Settings(("Jobs:embed-pending:Enabled", "ture"))));

        Assert.Equal("configuration: Jobs:embed-pending:Enabled must be true or false (got \"ture\")", error.Message);
    }

    [Theory]
    [InlineData("Claude:MaxTokens", "0", "configuration: Claude:MaxTokens must be a positive whole number (got \"0\")")]
    [InlineData("Claude:RequestsPerMinute", "fifty", "configuration: Claude:RequestsPerMinute must be a positive whole number (got \"fifty\")")]
    [InlineData("ANTHROPIC_BASE_URL", "api.anthropic.com", "configuration: ANTHROPIC_BASE_URL must be an absolute http(s) URL (got \"api.anthropic.com\")")]
    public void InvalidClaudeSetting_NamesTheKeyAndTheValue(string key, string value, string expected)
    {
        var error = Assert.Throws<GalleryException>(() => ClaudeOptions.Read(Settings((key, value))));

        Assert.Equal(expected, error.Message);
    }

    [Theory]
    [InlineData("Embedding:BatchSize", "20000", "configuration: Embedding:BatchSize must be a whole number from 1 to 10000 (got \"20000\")")]
    [InlineData("Files:ReadTimeout", "a minute", "configuration: Files:ReadTimeout must be a positive time span such as 00:01:00 (got \"a minute\")")]
    [InlineData("Files:VerifyHash", "yes", "configuration: Files:VerifyHash must be true or false (got \"yes\")")]
    [InlineData("Hangfire:WorkerCount", "0", "configuration: Hangfire:WorkerCount must be a whole number from 1 to 64 (got \"0\")")]
    [InlineData("Jobs:describe-pending:MaxTokens", "-5", "configuration: Jobs:describe-pending:MaxTokens must be a positive whole number (got \"-5\")")]
    [InlineData("Gallery:ThumbnailCacheMegabytes", "lots", "configuration: Gallery:ThumbnailCacheMegabytes must be a whole number from 1 to 1048576 (got \"lots\")")]
    [InlineData("Index:BuildMemoryCeiling", "512kB", "configuration: Index:BuildMemoryCeiling must be at least 1MB (PostgreSQL's smallest maintenance_work_mem) (got \"512kB\")")]
    public void InvalidHostSetting_StopsTheWholeReadWithOneLine(string key, string value, string expected)
    {
        var error = Assert.Throws<GalleryException>(() => GalleryHostSettings.Read(Settings((key, value))));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void UnsetOrBlankValues_GiveTheDefaults_AndValidValuesAreUsed()
    {
        var defaults = GalleryHostSettings.Read(Settings(("Claude:MaxTokens", " "), ("Jobs:embed-pending:Enabled", "")));
        var configured = GalleryHostSettings.Read(Settings(
            ("Claude:MaxTokens", " 2048 "), ("Jobs:describe-pending:Enabled", "True"), ("Embedding:RetryDelay", "00:00:30"), ("Hangfire:WorkerCount", "3")));

        Assert.Equal(new ClaudeOptions().MaxTokens, defaults.Claude.MaxTokens);
        Assert.True(defaults.Jobs.Single(j => j.Id == EmbedPendingJob.Id).Enabled);
        Assert.False(defaults.Jobs.Single(j => j.Id == DescribePendingJob.Id).Enabled);
        Assert.Equal(GalleryHostSettings.DefaultWorkerCount, defaults.WorkerCount);
        Assert.Equal(BuildMemoryCeiling.Default, defaults.BuildMemoryCeiling);
        Assert.Equal(2048, configured.Claude.MaxTokens);
        Assert.True(configured.Jobs.Single(j => j.Id == DescribePendingJob.Id).Enabled);
        Assert.Equal(TimeSpan.FromSeconds(30), configured.Embedding.RetryDelay);
        Assert.Equal(3, configured.WorkerCount);
    }

    [Fact]
    public void SettingsThatDoNotFitTogether_AreOneLineToo()
    {
        var error = Assert.Throws<GalleryException>(() => EmbeddingOptions.Read(Settings(("Embedding:RetryDelay", "02:00:00"))));

        Assert.Equal("configuration: Embedding:RetryDelay must not be negative, nor over Embedding:MaxRetryDelay", error.Message);
    }

    [Fact]
    public void DashboardPassword_IsKeptAsWritten_AndNeverPrinted()
    {
        var dashboard = DashboardSettings.Read(Settings(("Dashboard:Username", "ops"), ("Dashboard:Password", " s3cret ")));

        Assert.Equal(" s3cret ", dashboard.Password);
        Assert.DoesNotContain("s3cret", dashboard.ToString(), StringComparison.Ordinal);
    }

    private static SettingsReader Settings(params (string Key, string Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value, StringComparer.OrdinalIgnoreCase);
        return new SettingsReader(key => map.GetValueOrDefault(key));
    }
}
