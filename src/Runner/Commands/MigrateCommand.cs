using System.CommandLine;
using DbFirst.Database;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst migrate up|down|list|preview</c>: the DBA's view of the schema.</summary>
internal static class MigrateCommand
{
    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var migrate = new Command("migrate", "Apply, roll back, list or preview the versioned schema migrations");

        var upTo = new Option<long?>("--to") { Description = "Stop at this version (default: the newest)" };
        var up = new Command("up", "Apply pending migrations") { upTo };
        CommandAction.Set(up, options, console, async (context, parse, cancellationToken) =>
        {
            var applied = await new GalleryMigrator(context.OwnerConnectionString).MigrateUpAsync(parse.GetValue(upTo), cancellationToken);
            await console.Error.WriteLineAsync(applied.Count == 0
                ? "dbfirst: database is up to date"
                : $"dbfirst: applied {string.Join(", ", applied)}");
            return CommandAction.Success;
        });

        var downTo = new Option<long>("--to") { Description = "Roll back to this version; 0 removes everything the migrations made", Required = true };
        var force = new Option<bool>("--force") { Description = "Roll back even steps that destroy data (rows, paid batches, role memberships' grants)" };
        var down = new Command("down", "Roll back migrations; refuses, saying what would be lost, when a step destroys data") { downTo, force };
        CommandAction.Set(down, options, console, async (context, parse, cancellationToken) =>
        {
            var target = parse.GetValue(downTo);
            if (target < 0)
            {
                throw new GalleryException("--to must be 0 or a migration version");
            }

            var rolledBack = await new GalleryMigrator(context.OwnerConnectionString).MigrateDownAsync(target, parse.GetValue(force), cancellationToken);
            await console.Error.WriteLineAsync(rolledBack.Count == 0
                ? $"dbfirst: nothing above version {target} to roll back"
                : $"dbfirst: rolled back {string.Join(", ", rolledBack)}");
            return CommandAction.Success;
        });

        var list = new Command("list", "List applied and pending migrations");
        CommandAction.Set(list, options, console, async (context, _, cancellationToken) =>
        {
            foreach (var state in await new GalleryMigrator(context.OwnerConnectionString).ListAsync(cancellationToken))
            {
                var status = state.AppliedOn is { } on ? $"applied {on:yyyy-MM-dd HH:mm:ss}" : "pending";
                await console.Out.WriteLineAsync($"{state.Version,6}  {status,-27}  {state.Description}");
            }

            return CommandAction.Success;
        });

        var previewTo = new Option<long?>("--to") { Description = "Preview up (or down) to this version (default up: the newest)" };
        var previewDown = new Option<bool>("--down") { Description = "Preview 'migrate down --to N': what it would destroy, and its SQL" };
        var preview = new Command("preview", "Print the SQL that 'migrate up' (or with --down, 'migrate down') would run, without running it") { previewTo, previewDown };
        CommandAction.Set(preview, options, console, async (context, parse, cancellationToken) =>
        {
            var migrator = new GalleryMigrator(context.OwnerConnectionString);
            if (!parse.GetValue(previewDown))
            {
                await migrator.PreviewAsync(console.Out, parse.GetValue(previewTo), cancellationToken);
            }
            else if (parse.GetValue(previewTo) is not { } target || target < 0)
            {
                throw new GalleryException("preview --down needs --to with 0 or a migration version");
            }
            else
            {
                await migrator.PreviewDownAsync(console.Out, target, cancellationToken);
            }

            return CommandAction.Success;
        });

        migrate.Subcommands.Add(up);
        migrate.Subcommands.Add(down);
        migrate.Subcommands.Add(list);
        migrate.Subcommands.Add(preview);
        return migrate;
    }
}
