using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst clip tokenize|preprocess|embed-image|embed-text</c>: CLIP by hand, for checking parity.</summary>
internal static class ClipCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var clip = new Command("clip", "Tokenize, preprocess and embed with the CLIP model (--model DIR)");

        var json = new Option<bool>("--json") { Description = "Print JSON", Recursive = true };
        clip.Options.Add(json);

        var tokenizeText = new Argument<string>("text") { Description = "Text to tokenize" };
        var tokenize = new Command("tokenize", "Print the 77 CLIP token ids of TEXT") { tokenizeText };
        CommandAction.Set(tokenize, options, console, async (context, parse, _) =>
        {
            using var model = ClipModelLoader.Load(context);
            var ids = model.Tokenizer.Encode(parse.GetValue(tokenizeText)!);
            await console.Out.WriteLineAsync(parse.GetValue(json)
                ? JsonSerializer.Serialize(new { ids }, DbFirstJson.Options)
                : string.Join(' ', ids));
            return CommandAction.Success;
        });

        var preprocessImage = new Argument<string>("image") { Description = "Image file" };
        var preprocessOut = new Option<string>("--out") { Description = "Where to write the 3×224×224 float32 little-endian tensor", Required = true };
        var preprocess = new Command("preprocess", "Write IMAGE's CLIP input tensor to --out") { preprocessImage, preprocessOut };
        CommandAction.Set(preprocess, options, console, async (context, parse, cancellationToken) =>
        {
            var path = ClipModelLoader.RequireFile(parse.GetValue(preprocessImage)!);
            using var model = ClipModelLoader.Load(context);
            var tensor = ClipModelLoader.Preprocess(model, path);
            var output = parse.GetValue(preprocessOut)!;
            await File.WriteAllBytesAsync(output, MemoryMarshal.AsBytes(tensor.AsSpan()).ToArray(), cancellationToken);
            await console.Error.WriteLineAsync($"dbfirst: wrote {tensor.Length} floats to {TerminalText.Escape(output)}");
            return CommandAction.Success;
        });

        var embedImagePath = new Argument<string>("image") { Description = "Image file" };
        var embedImage = new Command("embed-image", "Print IMAGE's CLIP embedding") { embedImagePath };
        CommandAction.Set(embedImage, options, console, async (context, parse, _) =>
        {
            var path = ClipModelLoader.RequireFile(parse.GetValue(embedImagePath)!);
            using var model = ClipModelLoader.Load(context);
            var embedding = model.ImageEncoder.Encode(ClipModelLoader.Preprocess(model, path));
            await WriteEmbeddingAsync(console, model.Name, embedding, parse.GetValue(json));
            return CommandAction.Success;
        });

        var embedTextValue = new Argument<string>("text") { Description = "Text to embed" };
        var embedText = new Command("embed-text", "Print TEXT's CLIP embedding") { embedTextValue };
        CommandAction.Set(embedText, options, console, async (context, parse, _) =>
        {
            using var model = ClipModelLoader.Load(context);
            var embedding = model.TextEncoder.Encode(parse.GetValue(embedTextValue)!);
            await WriteEmbeddingAsync(console, model.Name, embedding, parse.GetValue(json));
            return CommandAction.Success;
        });

        clip.Subcommands.Add(tokenize);
        clip.Subcommands.Add(preprocess);
        clip.Subcommands.Add(embedImage);
        clip.Subcommands.Add(embedText);
        return clip;
    }

    private static Task WriteEmbeddingAsync(RunnerConsole console, string model, float[] embedding, bool json) =>
        console.Out.WriteLineAsync(json
            ? JsonSerializer.Serialize(new { model, dim = embedding.Length, embedding }, DbFirstJson.Options)
            : string.Join(' ', embedding.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
}
