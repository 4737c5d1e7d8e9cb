namespace DbFirst.Tests.Support;

/// <summary>
/// A test driving Debian's Chromium (<c>scripts/install-browser.sh</c>, which <c>scripts/test.sh</c> runs, installs
/// it); skipped, saying why, where it is absent.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!File.Exists(Chromium))
        {
            Skip = $"no {Chromium} (run scripts/install-browser.sh)";
        }
    }
}
