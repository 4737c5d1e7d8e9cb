using System.Text.RegularExpressions;
using DbFirst.Configuration;
using DbFirst.Jobs;
using DbFirst.Runner;
using DbFirst.Runner.Commands;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace DbFirst.Tests.Configuration;

/// <summary>
/// The README's configuration table is what an operator reads: it must list exactly the keys the code reads (through
/// <see cref="SettingsReader"/>, which records them), each with its environment-variable spelling.
/// </summary>
public sealed partial class ConfigurationTableTests
{
    private const string JobIdPlaceholder = "<id>";

    [Fact]
    public void ReadmeTable_ListsExactlyTheKeysTheCodeReads()
    {
        var settings = new SettingsReader(_ => null);
        GalleryHostSettings.Read(settings);
        IngestCommand.ReadPruneMaxFraction(settings);
        var context = new RunnerContext(new ConfigurationBuilder().Build(), modelOption: null, new RunnerConsole(TextWriter.Null, TextWriter.Null, IsInteractive: false));
        var read = new List<string>(settings.KeysRead);
        _ = context.OwnerConnectionString;
        _ = context.IndexConnectionString;
        _ = context.ModelLocation;
        read.AddRange(context.Settings.KeysRead);

        var documented = ReadTable()
            .SelectMany(row => row.Key.Contains(JobIdPlaceholder, StringComparison.Ordinal)
                ? RecurringJobCatalog.Entries.Select(entry => row.Key.Replace(JobIdPlaceholder, entry.Id, StringComparison.Ordinal))
                : [row.Key]);

        Assert.Equal(read.Distinct().Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ReadmeTable_GivesEachKeysEnvironmentVariable()
    {
        Assert.All(ReadTable(), row => Assert.Equal(row.Key.Replace(":", "__", StringComparison.Ordinal), row.Variable));
    }

    private static List<(string Key, string Variable)> ReadTable()
    {
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "README.md"));
        var header = Array.FindIndex(lines, line => line.StartsWith("| key | environment variable |", StringComparison.Ordinal));
        Assert.True(header >= 0, "README.md has no configuration table");
        return lines.Skip(header + 2)
            .TakeWhile(line => line.StartsWith('|'))
            .Select(line => Row().Match(line))
            .Select(match => (match.Groups["key"].Value, match.Groups["variable"].Value))
            .ToList();
    }

    [GeneratedRegex(@"^\| `(?<key>[^`]+)` \| `(?<variable>[^`]+)`")]
    private static partial Regex Row();
}
