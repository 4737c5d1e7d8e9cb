using System.CommandLine;
using System.Text.Json;
using DbFirst.Testing;

namespace DbFirst.Bench.Commands;

/// <summary>
/// <c>dbfirst bench claude</c>: <c>describe --all</c> over generated images against a local fake Messages API with
/// latency and a per-minute limit, then again to show that the second run makes no calls. Uses a scratch database on
/// the configured server. 500 images at 50 requests/min take 10 minutes; scale both down together for a quick run.
/// </summary>
internal static class BenchClaudeCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var images = new Option<int>("--images") { Description = "Images to describe", DefaultValueFactory = _ => 500 };
        var rpm = new Option<int>("--rpm") { Description = "The fake API's limit in requests per minute", DefaultValueFactory = _ => 50 };
        var clientRpm = new Option<double?>("--client-rpm") { Description = "The client's pace (default: the same as --rpm)" };
        var latency = new Option<int>("--latency-ms") { Description = "The fake API's latency per call", DefaultValueFactory = _ => 200 };
        var concurrency = new Option<int>("--concurrency") { Description = "Calls in flight at once", DefaultValueFactory = _ => 4 };
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON" };
        var command = new Command("claude", "Benchmark describe --all against a local fake Claude API with a rate limit")
        {
            images, rpm, clientRpm, latency, concurrency, json,
        };

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var settings = new ClaudeBench.Settings(
                parse.GetValue(images),
                parse.GetValue(rpm),
                parse.GetValue(clientRpm) ?? parse.GetValue(rpm),
                TimeSpan.FromMilliseconds(parse.GetValue(latency)),
                parse.GetValue(concurrency));
            if (settings.Images < 1 || settings.ServerRequestsPerMinute < 1 || settings.ClientRequestsPerMinute <= 0 || settings.Concurrency < 1)
            {
                throw new GalleryException("--images, --rpm, --client-rpm and --concurrency must be positive");
            }

            var result = await ClaudeBench.RunAsync(context.OwnerConnectionString, settings, console.Error, cancellationToken);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(result, RunnerJson.Options));
            }
            else
            {
                await console.Out.WriteLineAsync(
                    $"""
                    first run:  {result.Described} described, {result.Failed} failed in {result.FirstRun.TotalSeconds:F1} s; {result.FirstRunCalls} calls
                                429s from the fake: {result.RateLimitedByServer}; most requests in any 60 s: {result.MaxRequestsInAnyMinute} (limit {settings.ServerRequestsPerMinute}); pace {result.AchievedRequestsPerMinute:F1} requests/min
                    second run: {result.SecondRunCalls} calls in {result.SecondRun.TotalSeconds:F2} s
                    request problems found by the fake: {result.RequestProblems}
                    """);
            }

            return result.RequestProblems == 0 && result.SecondRunCalls == 0 && result.Failed == 0 ? CommandAction.Success : CommandAction.Failure;
        });
        return command;
    }
}
