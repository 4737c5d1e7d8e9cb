using System.CommandLine;
using DbFirst.Database;
using DbFirst.Search;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst similar ID</c>: the images most like a gallery image, itself left out.</summary>
internal static class SimilarCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var id = new Argument<long>("id") { Description = "The image's id in gallery.image_gallery" };
        var output = new SearchOutput();
        var command = new Command("similar", "Find the images most similar to a gallery image, nearest first") { id };
        output.AddTo(command);
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var imageId = parse.GetValue(id);
            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            var hits = await new GallerySearch(dataSource).SimilarAsync(imageId, parse.GetValue(output.K), output.Filter(parse), cancellationToken);
            string? source = null;
            if (parse.GetValue(output.Html) is not null)
            {
                await using var path = dataSource.CreateCommand("SELECT path FROM gallery.image_gallery WHERE id = $1");
                path.Parameters.Add(new Npgsql.NpgsqlParameter { Value = imageId });
                source = await path.ExecuteScalarAsync(cancellationToken) as string;
            }

            await output.WriteAsync(console, parse, dataSource, $"Similar to image #{imageId}", hits, source, cancellationToken);
            return CommandAction.Success;
        });
        return command;
    }
}
