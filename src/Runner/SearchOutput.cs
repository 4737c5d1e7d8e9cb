using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DbFirst.Files;
using DbFirst.Search;
using Npgsql;

namespace DbFirst.Runner;

/// <summary>The options and output shared by <c>dbfirst search</c> and <c>dbfirst similar</c>.</summary>
internal sealed class SearchOutput
{

    public Option<int> K { get; } = new("-k", "--k") { Description = "How many results", DefaultValueFactory = _ => 10 };

    public Option<bool> Json { get; } = new("--json") { Description = "Print only [{\"id\":…,\"path\":…,\"distance\":…}]" };

    public Option<FileInfo?> Html { get; } = new("--html") { Description = "Also write a self-contained HTML page with the results as a thumbnail grid" };

    public Option<string?> Folder { get; } = new("--folder") { Description = "Only images under this folder" };

    public Option<DateTimeOffset?> From { get; } = new("--from") { Description = "Only images taken at or after this time (e.g. 2024-06-01)" };

    public Option<DateTimeOffset?> To { get; } = new("--to") { Description = "Only images taken before this time" };

    public void AddTo(Command command)
    {
        command.Options.Add(K);
        command.Options.Add(Json);
        command.Options.Add(Html);
        command.Options.Add(Folder);
        command.Options.Add(From);
        command.Options.Add(To);
    }

    public SearchFilter? Filter(ParseResult parse)
    {
        var folder = parse.GetValue(Folder);
        var from = parse.GetValue(From);
        var to = parse.GetValue(To);
        return folder is null && from is null && to is null ? null : new SearchFilter(folder, from, to);
    }

    public async Task WriteAsync(
        RunnerConsole console, ParseResult parse, NpgsqlDataSource dataSource, string title, IReadOnlyList<SearchHit> hits, string? queryImage, CancellationToken cancellationToken)
    {
        if (parse.GetValue(Json))
        {
            var rows = hits.Select(hit => new JsonHit(hit.Id, hit.Path, Math.Round(hit.Distance, 6)));
            await console.Out.WriteLineAsync(JsonSerializer.Serialize(rows, DbFirstJson.Options));
        }
        else
        {
            await console.Out.WriteLineAsync($"{"#",3}  {"id",8}  {"distance",8}  path");
            for (var i = 0; i < hits.Count; i++)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{i + 1,3}  {hits[i].Id,8}  {hits[i].Distance,8:F4}  {TerminalText.Escape(hits[i].Path)}"));
            }

            if (hits.Count == 0)
            {
                await console.Error.WriteLineAsync("dbfirst: no results (no embedded images match)");
            }
        }

        if (parse.GetValue(Html) is { } html)
        {
            var files = await IngestedFileCatalog.LoadAsync(dataSource, hits.Select(h => h.Id), cancellationToken);
            await new SearchResultsPage().WriteAsync(html.FullName, title, hits, queryImage, files, cancellationToken);
            await console.Error.WriteLineAsync($"dbfirst: wrote {TerminalText.Escape(html.FullName)}");
        }
    }

    private sealed record JsonHit(long Id, string Path, double Distance);
}
