using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DbFirst.Database;
using DbFirst.Indexing;
using DbFirst.Search;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst duplicates</c>: pairs of visually near-identical images, through the vector index.</summary>
internal static class DuplicatesCommand
{

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var maxDistance = new Option<double>("--max-distance") { Description = "Cosine distance at or under which two images count as duplicates", DefaultValueFactory = _ => 0.01 };
        var folder = new Option<string?>("--folder") { Description = "Only images under this folder" };
        var json = new Option<bool>("--json") { Description = "Print only [{\"id_a\":…,\"path_a\":…,\"id_b\":…,\"path_b\":…,\"distance\":…}]" };
        var refresh = new Option<bool>("--refresh") { Description = "First look up the neighbours of images still queued (bulk loads, upgraded galleries)" };
        var command = new Command("duplicates", "List pairs of near-identical images (from each image's stored nearest neighbours)") { maxDistance, folder, json, refresh };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            var backfill = new NeighbourBackfill(dataSource);
            if (parse.GetValue(refresh))
            {
                var filled = await backfill.FillAsync(cancellationToken: cancellationToken);
                await console.Error.WriteLineAsync($"dbfirst: looked up the neighbours of {filled} queued image(s)");
            }

            var pending = await backfill.PendingAsync(cancellationToken);
            if (pending > 0)
            {
                await console.Error.WriteLineAsync($"dbfirst: {pending} image(s) have no stored neighbours yet, so their pairs may be missing; run `dbfirst duplicates --refresh`");
            }

            var pairs = await new GallerySearch(dataSource).NearDuplicatesAsync(parse.GetValue(maxDistance), folder: parse.GetValue(folder), cancellationToken: cancellationToken);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(pairs.Select(p => new JsonPair(p.IdA, p.PathA, p.IdB, p.PathB, Math.Round(p.Distance, 6))), DbFirstJson.Options));
                return CommandAction.Success;
            }

            foreach (var pair in pairs)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{pair.Distance:F4}  #{pair.IdA} {TerminalText.Escape(pair.PathA)}  ~  #{pair.IdB} {TerminalText.Escape(pair.PathB)}"));
            }

            await console.Error.WriteLineAsync($"dbfirst: {pairs.Count} near-duplicate pair(s) within distance {parse.GetValue(maxDistance).ToString(CultureInfo.InvariantCulture)}");
            return CommandAction.Success;
        });
        return command;
    }

    private sealed record JsonPair(long IdA, string PathA, long IdB, string PathB, double Distance);
}
