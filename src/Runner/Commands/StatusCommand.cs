using System.CommandLine;
using System.Text.Json;
using DbFirst.Clip;
using DbFirst.Database;
using DbFirst.Embedding;
using DbFirst.Runner.Hosting;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst status [--json]</c>: rows, embedded, pending, failed by reason, the model, the vector index.</summary>
internal static class StatusCommand
{
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON on stdout" };
        var command = new Command("status", "Show how much of the gallery is embedded, what failed and why, the model and the index") { json };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            string modelName;
            bool isTestModel;
            using (var model = ClipModelLoader.Load(context, parse, options))
            {
                modelName = model.Name;
                isTestModel = model.IsTestModel;
            }

            await using var dataSource = GalleryDataSource.Create(context.ConnectionString);
            var status = await new GalleryStatusReader(dataSource).ReadAsync(cancellationToken);
            PgvectorVersion pgvector;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                pgvector = await PgvectorVersion.ReadAsync(connection, cancellationToken);
            }

            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new { model = new { name = modelName, test_model = isTestModel }, status, pgvector }, s_json));
                return CommandAction.Success;
            }

            var o = console.Out;
            await o.WriteLineAsync($"rows       {status.Rows,10:N0}");
            await o.WriteLineAsync($"embedded   {status.Embedded,10:N0}" + (status.ActiveModel is { } active && active != modelName ? $"  by the active model {TerminalText.Escape(active)}" : ""));
            await o.WriteLineAsync($"pending    {status.Pending,10:N0}" + (status.EmbeddedWithOtherModel > 0 ? $"  ({status.EmbeddedWithOtherModel:N0} embedded by another model only)" : "") + (status.Retrying > 0
                ? $"  ({status.Retrying:N0} retrying after a transient failure, next at {status.NextAttemptAt:u})"
                : ""));
            await o.WriteLineAsync($"failed     {status.Failed,10:N0}");
            foreach (var failure in status.Failures)
            {
                await o.WriteLineAsync($"  {failure.Rows,8:N0}  {(failure.Permanent ? "permanent" : "retrying ")}  {TerminalText.Escape(failure.Reason)}");
            }

            await o.WriteLineAsync($"model      {TerminalText.Escape(modelName)}{(isTestModel ? " (test model: results are NOT semantic)" : "")}");
            foreach (var coverage in status.Coverage ?? [])
            {
                await o.WriteLineAsync($"  {coverage.State,-8}  {TerminalText.Escape(coverage.Name)} ({coverage.Dimension}-d): {coverage.Embedded:N0} of {coverage.Total:N0} embedded, index {TerminalText.Escape(coverage.IndexName ?? "none")}");
            }

            if (status.Indexes.Count == 0)
            {
                await o.WriteLineAsync("index      none (searches scan every row)");
            }

            foreach (var index in status.Indexes)
            {
                await o.WriteLineAsync($"index      {index.Name} ({index.Type}, {index.Size}{(index.Valid ? "" : ", INVALID: rebuild it")})");
            }

            await o.WriteLineAsync($"pgvector   {TerminalText.Escape(pgvector.Installed ?? "not installed")}" +
                (pgvector.Available is { } available && available != pgvector.Installed ? $" (the server offers {TerminalText.Escape(available)})" : ""));
            if (pgvector.Warning is { } warning)
            {
                await console.Error.WriteLineAsync($"dbfirst: warning: {TerminalText.Escape(warning)}");
            }

            return CommandAction.Success;
        });

        return command;
    }
}
