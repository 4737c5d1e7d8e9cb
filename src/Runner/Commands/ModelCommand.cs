using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DbFirst.Database;
using DbFirst.Models;

namespace DbFirst.Runner.Commands;

/// <summary>
/// <c>dbfirst model list|stage|promote|rollback|drop</c>: the model switch a DBA runs (README, "Switching models").
/// Every step runs as the owner through the lifecycle functions of migration 105.
/// </summary>
internal static class ModelCommand
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var model = new Command("model", "The CLIP model registry: list, stage a new model, promote it, roll back, drop a retired one");
        model.Subcommands.Add(List(options, console));
        model.Subcommands.Add(Stage(options, console));
        model.Subcommands.Add(Promote(options, console));
        model.Subcommands.Add(Rollback(options, console));
        model.Subcommands.Add(Drop(options, console));
        return model;
    }

    private static Command List(GlobalOptions options, RunnerConsole console)
    {
        var json = new Option<bool>("--json") { Description = "Print {\"models\": […]} as JSON" };
        var command = new Command("list", "Every model with its state, dimension, embedded / total images and index") { json };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var models = await new ModelRegistry(dataSource).ListAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                var rows = models.Select(m => new
                {
                    m.Id, m.Name, m.State, m.Dimension, m.Embedded, m.Total, m.Coverage, m.IndexName, m.Source, m.Layout, m.IndexPrecision,
                });
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new { models = rows }, s_json));
                return CommandAction.Success;
            }

            if (models.Count == 0)
            {
                await console.Out.WriteLineAsync("no model registered yet: the first dbfirst embed registers its model as active, or run dbfirst model stage DIR");
                return CommandAction.Success;
            }

            await console.Out.WriteLineAsync($"{"state",-8} {"model",-28} {"dim",5} {"embedded / total",21} {"coverage",8}  index");
            foreach (var m in models)
            {
                await console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{m.State,-8} {TerminalText.Escape(m.Name),-28} {m.Dimension,5} {m.Embedded,9:N0} / {m.Total,-9:N0} {m.Coverage,8:P1}  {(m.IndexName is null ? "none" : $"gallery.{m.IndexName} ({m.IndexPrecision} precision)")}"));
            }

            return CommandAction.Success;
        });
        return command;
    }

    private static Command Stage(GlobalOptions options, RunnerConsole console)
    {
        var directory = new Argument<string>("DIR") { Description = "Model folder (Immich layout: visual/ textual/ config.json; or a Hugging Face ONNX export)" };
        var command = new Command("stage", "Register the model in DIR as the staged model; embed jobs backfill it after keeping the active one current") { directory };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var registration = ModelRegistrationReader.Read(parse.GetValue(directory)!);
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var staged = await new ModelRegistry(dataSource).StageAsync(registration, cancellationToken);
            await console.Out.WriteLineAsync(
                $"staged {TerminalText.Escape(staged.Name)} ({staged.Dimension}-d, {staged.Layout} layout) from {TerminalText.Escape(staged.Source ?? "")}; dbfirst embed and the embed-pending job now backfill it; watch dbfirst model list, then build its index with dbfirst index rebuild --model {TerminalText.Escape(staged.Name)}");
            return CommandAction.Success;
        });
        return command;
    }

    private static Command Promote(GlobalOptions options, RunnerConsole console)
    {
        var minCoverage = new Option<double>("--min-coverage") { Description = "Least share of images the staged model must have embedded (0–1)", DefaultValueFactory = _ => 1.0 };
        minCoverage.Validators.Add(result =>
        {
            if (result.GetValue(minCoverage) is < 0 or > 1)
            {
                result.AddError("--min-coverage must be between 0 and 1");
            }
        });
        var command = new Command("promote", "Make the staged model active in one transaction (the active one is retired, its embeddings kept)") { minCoverage };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var registry = new ModelRegistry(dataSource);
            var active = await registry.PromoteAsync(parse.GetValue(minCoverage), cancellationToken);
            await console.Out.WriteLineAsync($"{TerminalText.Escape(active.Name)} ({active.Dimension}-d) is now the active model; searches that start from now use it");
            if (!await registry.ActiveModelTunedAsync(cancellationToken))
            {
                // Not a refusal: the index is valid and searches work, with pgvector's default recall/speed trade-off.
                var name = TerminalText.Escape(active.Name);
                await console.Error.WriteLineAsync(
                    $"dbfirst: note: {name}'s index was never tuned, so searches use pgvector's defaults (hnsw.ef_search 40, ivfflat.probes 1); run dbfirst index tune (next time, dbfirst index tune --model {name} before promote)");
            }
            return CommandAction.Success;
        });
        return command;
    }

    private static Command Rollback(GlobalOptions options, RunnerConsole console)
    {
        var command = new Command("rollback", "Make the previously active model active again (its embeddings must still be kept)");
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var active = await new ModelRegistry(dataSource).RollbackAsync(cancellationToken);
            await console.Out.WriteLineAsync($"{TerminalText.Escape(active.Name)} ({active.Dimension}-d) is the active model again");
            return CommandAction.Success;
        });
        return command;
    }

    private static Command Drop(GlobalOptions options, RunnerConsole console)
    {
        var name = new Argument<string>("NAME") { Description = "A retired model's name (dbfirst model list)" };
        var force = new Option<bool>("--force") { Description = "Drop even though its embeddings are lost" };
        var command = new Command("drop", "Remove a retired model's embeddings, index and registration") { name, force };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var dropped = await new ModelRegistry(dataSource).DropAsync(parse.GetValue(name)!, parse.GetValue(force), cancellationToken);
            await console.Out.WriteLineAsync($"dropped {TerminalText.Escape(parse.GetValue(name)!)} and its {dropped:N0} embeddings");
            return CommandAction.Success;
        });
        return command;
    }
}
