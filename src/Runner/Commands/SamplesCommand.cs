using System.CommandLine;
using DbFirst.Samples;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst samples colours DIR</c>: generated images for demos and offline runs.</summary>
internal static class SamplesCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var folder = new Argument<string>("dir") { Description = "Folder to write the images into" };
        var perColour = new Option<int>("--per-colour") { Description = "Images per colour (variants differ in their shapes)", DefaultValueFactory = _ => 1 };
        var colours = new Command("colours", "Write photo-like JPEGs per colour word (red.jpg, green.jpg, ...)") { folder, perColour };
        CommandAction.Set(colours, options, console, async (_, parse, cancellationToken) =>
        {
            var paths = await ColourSampleWriter.WriteAsync(Path.GetFullPath(parse.GetValue(folder)!), parse.GetValue(perColour), cancellationToken);
            foreach (var path in paths)
            {
                await console.Out.WriteLineAsync(TerminalText.Escape(path));
            }

            return CommandAction.Success;
        });

        return new Command("samples", "Generate sample images") { colours };
    }
}
