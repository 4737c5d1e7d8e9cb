using System.CommandLine;
using System.Text.Json;
using DbFirst.Claude;
using DbFirst.Database;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst describe [ID…] [--all] [--force] [--json] [--batch | --collect]</c>: has Claude describe images and stores
/// the text, model, time and token counts in <c>gallery.image_gallery</c>. Without ids or <c>--all</c> it describes the
/// images marked with <c>gallery.request_description</c>. <c>--batch</c> submits the same selection as Message Batches
/// (half price, results within 24 h); <c>--collect</c> stores the results of batches that have ended.
/// </summary>
internal static class DescribeCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var ids = new Argument<long[]>("ID") { Description = "Images to describe (default: those marked by gallery.request_description)", Arity = ArgumentArity.ZeroOrMore };
        var all = new Option<bool>("--all") { Description = "Describe every image that has no description by the configured model" };
        var force = new Option<bool>("--force") { Description = "Describe again even when a description by the configured model exists" };
        var json = new Option<bool>("--json") { Description = "Print the outcome as JSON" };
        var batch = new Option<bool>("--batch") { Description = "Submit the work as a Message Batch (half price, results within 24 h; store them with --collect)" };
        var collect = new Option<bool>("--collect") { Description = "Store the results of submitted batches that have ended" };
        var command = new Command("describe", "Have Claude describe images and store the descriptions (costs money; each image is paid for once)")
        {
            ids, all, force, json, batch, collect,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(batch) && result.GetValue(collect))
            {
                result.AddError("--batch and --collect cannot be combined");
            }
        });

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var claudeOptions = ClaudeOptions.Read(context.Settings);
            claudeOptions.RequireApiKey();
            var request = new DescribeRequest(parse.GetValue(ids) ?? [], parse.GetValue(all), parse.GetValue(force));
            var asJson = parse.GetValue(json);

            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            if (parse.GetValue(batch) || parse.GetValue(collect))
            {
                using var batches = new GalleryBatchDescriber(dataSource, claudeOptions);
                return parse.GetValue(batch)
                    ? await SubmitAsync(console, batches, request, claudeOptions.Model, asJson, cancellationToken)
                    : await CollectAsync(console, batches, asJson, cancellationToken);
            }

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
                    dropped = summary.Dropped,
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
                }, DbFirstJson.Options));
            }

            foreach (var missing in summary.NotFound)
            {
                await console.Error.WriteLineAsync($"dbfirst: image {missing} is not in the gallery");
            }

            await console.Error.WriteLineAsync(
                $"dbfirst: described {summary.Described}, skipped {summary.Skipped}, failed {summary.Failed}, dropped {summary.Dropped} (image changed) with {claudeOptions.Model}: " +
                $"{summary.Calls} calls, {summary.InputTokens} input + {summary.OutputTokens} output tokens" +
                (summary.StoppedBy is { } stopped ? $"; stopped early: {TerminalText.Escape(stopped)}" : ""));
            return summary.Failed > 0 || summary.NotFound.Count > 0 ? CommandAction.Failure : CommandAction.Success;
        });
        return command;
    }

    private static async Task<int> SubmitAsync(RunnerConsole console, GalleryBatchDescriber batches, DescribeRequest request, string model, bool asJson, CancellationToken cancellationToken)
    {
        var submission = await batches.SubmitAsync(request, cancellationToken);
        if (asJson)
        {
            await console.Out.WriteLineAsync(JsonSerializer.Serialize(new
            {
                model,
                batches = submission.BatchIds,
                submitted = submission.Submitted,
                skipped = submission.Skipped,
                failed = submission.Failed,
                not_found = submission.NotFound,
            }, DbFirstJson.Options));
        }
        else
        {
            foreach (var id in submission.BatchIds)
            {
                await console.Out.WriteLineAsync(TerminalText.Escape(id));
            }
        }

        foreach (var missing in submission.NotFound)
        {
            await console.Error.WriteLineAsync($"dbfirst: image {missing} is not in the gallery");
        }

        await console.Error.WriteLineAsync(
            $"dbfirst: submitted {submission.Submitted} images in {submission.BatchIds.Count} batches with {model}, " +
            $"skipped {submission.Skipped}, failed {submission.Failed}" +
            (submission.Submitted > 0 ? "; store the results with dbfirst describe --collect once they have ended" : ""));
        return submission.Failed > 0 || submission.NotFound.Count > 0 ? CommandAction.Failure : CommandAction.Success;
    }

    private static async Task<int> CollectAsync(RunnerConsole console, GalleryBatchDescriber batches, bool asJson, CancellationToken cancellationToken)
    {
        var collection = await batches.CollectAsync(cancellationToken);
        if (asJson)
        {
            await console.Out.WriteLineAsync(JsonSerializer.Serialize(new
            {
                collected = collection.Collected,
                pending = collection.Pending.Select(p => new { batch = p.BatchId, status = p.Status }),
                described = collection.Described,
                failed = collection.Failed,
                dropped = collection.Dropped,
                usage = new { input_tokens = collection.InputTokens, output_tokens = collection.OutputTokens },
            }, DbFirstJson.Options));
        }
        else
        {
            foreach (var id in collection.Collected)
            {
                await console.Out.WriteLineAsync($"{TerminalText.Escape(id)}  collected");
            }

            foreach (var (id, status) in collection.Pending)
            {
                await console.Out.WriteLineAsync($"{TerminalText.Escape(id)}  {TerminalText.Escape(status)}: not ended yet, nothing stored");
            }
        }

        await console.Error.WriteLineAsync(
            $"dbfirst: collected {collection.Collected.Count} batches ({collection.Described} described, {collection.Failed} failed, {collection.Dropped} dropped as the image changed, " +
            $"{collection.InputTokens} input + {collection.OutputTokens} output tokens); {collection.Pending.Count} still processing");
        return collection.Failed > 0 ? CommandAction.Failure : CommandAction.Success;
    }

    private static void WriteOutcome(RunnerConsole console, DescribeOutcome outcome)
    {
        console.Out.WriteLine($"{outcome.Id,8}  {outcome.Status,-9}  {TerminalText.Escape(outcome.Path)}");
        var detail = outcome.Description ?? outcome.Error;
        if (detail is not null)
        {
            console.Out.WriteLine($"          {TerminalText.Escape(detail.ReplaceLineEndings(" "))}");
        }
    }
}
