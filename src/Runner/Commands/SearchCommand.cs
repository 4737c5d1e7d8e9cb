using System.CommandLine;
using DbFirst.Database;
using DbFirst.Runner.Hosting;
using DbFirst.Search;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst search "TEXT"</c>: text-to-image search, embedding the text in-process with CLIP.</summary>
internal static class SearchCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var text = new Argument<string>("text") { Description = "What to look for, e.g. \"a red car by the sea\"" };
        var output = new SearchOutput();
        var command = new Command("search", "Find the images that best match a text (CLIP), nearest first") { text };
        output.AddTo(command);
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var query = parse.GetValue(text) ?? "";
            if (string.IsNullOrWhiteSpace(query))
            {
                throw new GalleryException("the search text is empty");
            }

            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            TextEmbedding embedding;
            using (var model = ClipModelLoader.Load(context))
            using (var embedder = new ActiveModelTextEmbedder(dataSource, model))
            {
                // The registry's active model encodes the text: after a promote this process's own model may be the old one.
                embedding = embedder.EmbedWithModel(query);
            }

            var hits = await new GallerySearch(dataSource).SearchByTextEmbeddingAsync(embedding, parse.GetValue(output.K), output.Filter(parse), cancellationToken);
            await output.WriteAsync(console, parse, dataSource, $"Search: \u201c{query}\u201d", hits, null, cancellationToken);
            return CommandAction.Success;
        });
        return command;
    }
}
