using System.CommandLine;
using System.Text.Json;
using DbFirst.Claude;
using DbFirst.Database;
using DbFirst.Runner.Hosting;
using Npgsql;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst ask "QUESTION" [-k 3] [--json]</c>: searches the gallery with the question, shows Claude the top k
/// images with the question in one message, and prints the answer and the images it was given.
/// </summary>
internal static class AskCommand
{
    /// <summary>Builds the command; <paramref name="retrieverFactory"/> replaces the CLIP search (tests pass a fake).</summary>
    public static Command Create(GlobalOptions options, RunnerConsole console, Func<RunnerContext, ParseResult, NpgsqlDataSource, IImageRetriever>? retrieverFactory = null)
    {
        var question = new Argument<string>("QUESTION") { Description = "What to ask about the gallery" };
        var k = new Option<int>("-k") { Description = "How many of the nearest images to show Claude", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print {answer, model, images, usage} as JSON" };
        var command = new Command("ask", "Ask Claude a question about the images a search of the gallery returns") { question, k, json };
        var createRetriever = retrieverFactory ?? ((context, parse, dataSource) =>
        {
            var model = ClipModelLoader.Load(context);
            var embedder = new ActiveModelTextEmbedder(dataSource, model);
            return new ClipImageRetriever(dataSource, embedder, embedder, model);
        });

        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var claudeOptions = ClaudeOptions.Read(context.Settings);
            claudeOptions.RequireApiKey();
            var count = parse.GetValue(k);
            if (count is < 1 or > 20)
            {
                throw new GalleryException("-k must be between 1 and 20");
            }

            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            using var claude = new ClaudeClient(claudeOptions);
            var retriever = createRetriever(context, parse, dataSource);
            using var ownedRetriever = retriever as IDisposable;
            var asker = new GalleryAsker(dataSource, retriever, claude);
            var answer = await asker.AskAsync(parse.GetValue(question) ?? "", count, cancellationToken);

            foreach (var warning in answer.Warnings)
            {
                await console.Error.WriteLineAsync($"dbfirst: {TerminalText.Escape(warning)}");
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    answer = answer.Answer,
                    model = answer.Model,
                    images = answer.Images.Select(i => new { id = i.Id, path = i.Path, distance = i.Distance }),
                    usage = new { input_tokens = answer.InputTokens, output_tokens = answer.OutputTokens },
                    cached = answer.Cached,
                }, DbFirstJson.Options));
                return CommandAction.Success;
            }

            await console.Out.WriteLineAsync(TerminalText.EscapeKeepingLines(answer.Answer));
            await console.Out.WriteLineAsync();
            await console.Out.WriteLineAsync($"Images given to {TerminalText.Escape(answer.Model)}:");
            for (var i = 0; i < answer.Images.Count; i++)
            {
                var image = answer.Images[i];
                await console.Out.WriteLineAsync($"  {i + 1}. id {image.Id}  distance {image.Distance:F4}  {TerminalText.Escape(image.Path)}");
            }

            await console.Error.WriteLineAsync(answer.Cached
                ? "dbfirst: answered from gallery.ask_cache (no call made)"
                : $"dbfirst: {answer.InputTokens} input + {answer.OutputTokens} output tokens");
            return CommandAction.Success;
        });
        return command;
    }
}
