using System.CommandLine;
using System.Text.Json;
using DbFirst.Claude;
using DbFirst.Database;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst describe [ID…] [--all] [--force] [--json]</c>: has Claude describe images and stores the text, model,
/// time and token counts in <c>gallery.image_gallery</c>. Without ids or <c>--all</c> it describes the images marked
/// with <c>gallery.request_description</c>.
/// </summary>
internal static class DescribeCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var ids = new Argument<long[]>("ID") { Description = "Images to describe (default: those marked by gallery.request_description)", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Describe every image that has no description by the configured model" };
        var force = new Option<bool>("--force") { Description = "Describe again even when a description by the configured model exists" };
        var json = new Option<bool>("--json") { Description = "Print the outcome as JSON" };
        var command = new Command("describe", "Have Claude describe images and store the descriptions (costs money; each image is paid for once)")
        {
            ids, all, force, json,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var claudeOptions = ClaudeOptions.FromConfiguration(key => context.Configuration[key]);
            claudeOptions.RequireApiKey();
            var request = new DescribeRequest(parse.GetValue(ids) ?? [], parse.GetValue(all), parse.GetValue(force));
            var asJson = parse.GetValue(json);

            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            using var claude = new ClaudeClient(claudeOptions);
            var describer = new GalleryDescriber(dataSource, claude);
            var summary = await describer.DescribeAsync(request, asJson ? null : outcome => WriteOutcome(console, outcome), cancellationToken);

            if (asJson)
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    model = claudeOptions.Model,
                    described = summary.Described,
                    skipped = summary.Skipped,
                    failed = summary.Failed,
                    not_found = summary.NotFound,
                    calls = summary.Calls,
                    usage = new { input_tokens = summary.InputTokens, output_tokens = summary.OutputTokens },
                    stopped_by = summary.StoppedBy,
                    images = summary.Outcomes.OrderBy(o => o.Id).Select(o => new
                    {
                        id = o.Id,
                        path = o.Path,
                        status = o.Status,
                        description = o.Description,
                        error = o.Error,
                        usage = new { input_tokens = o.InputTokens, output_tokens = o.OutputTokens },
                        calls = o.Calls,
                    }),
                }, RunnerJson.Options));
            }

            foreach (var missing in summary.NotFound)
            {
                await console.Error.WriteLineAsync($"dbfirst: image {missing} is not in the gallery");
            }

            await console.Error.WriteLineAsync(
                $"dbfirst: described {summary.Described}, skipped {summary.Skipped}, failed {summary.Failed} with {claudeOptions.Model}: " +
                $"{summary.Calls} calls, {summary.InputTokens} input + {summary.OutputTokens} output tokens" +
                (summary.StoppedBy is { } stopped ? $"; stopped early: {stopped}" : ""));
            return summary.Failed > 0 || summary.NotFound.Count > 0 ? CommandAction.Failure : CommandAction.Success;
        });
        return command;
    }

    private static void WriteOutcome(RunnerConsole console, DescribeOutcome outcome)
    {
        console.Out.WriteLine($"{outcome.Id,8}  {outcome.Status,-9}  {outcome.Path}");
        var detail = outcome.Description ?? outcome.Error;
        if (detail is not null)
        {
            console.Out.WriteLine($"          {detail.ReplaceLineEndings(" ")}");
        }
    }
}
