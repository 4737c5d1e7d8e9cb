using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DbFirst.Clip;
using DbFirst.Database;
using DbFirst.Indexing;

namespace DbFirst.Runner.Commands;

/// <summary><c>dbfirst index status|rebuild|tune</c>: the operator's view of the vector index.</summary>
internal static class IndexCommand
{

    public static Command Create(GlobalOptions options, RunnerConsole console)
    {
        var index = new Command("index", "Inspect, rebuild and tune a model's vector index: the active model's, or with --model NAME (or its folder) another registered one's, e.g. the staged model before promote");
        index.Subcommands.Add(Status(options, console));
        index.Subcommands.Add(Rebuild(options, console));
        index.Subcommands.Add(Tune(options, console));
        return index;
    }

    private static Command Status(GlobalOptions options, RunnerConsole console)
    {
        var json = new Option<bool>("--json") { Description = "Print the status as JSON" };
        var command = new Command("status", "Show the index type, parameters, rows, size, last build and the search setting in force") { json };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var status = await new VectorIndexManager(dataSource).GetStatusAsync(ModelName(parse, options), cancellationToken);
            if (parse.GetValue(json))
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(status, DbFirstJson.Options));
                return CommandAction.Success;
            }

            var o = console.Out;
            if (status.IndexName is null)
            {
                await o.WriteLineAsync($"index:          none ({status.SearchNote})");
                await o.WriteLineAsync($"rows:           {status.Rows:N0} embedded");
                return CommandAction.Success;
            }

            await o.WriteLineAsync($"index:          gallery.{status.IndexName}{(status.IsValid ? "" : " (INVALID: rebuild it)")}");
            await o.WriteLineAsync($"type:           {status.Method} ({status.Parameters}), cosine");
            await o.WriteLineAsync($"precision:      {status.Precision}{PrecisionNote(status.Precision)}");
            await o.WriteLineAsync($"rows:           {status.Rows:N0} embedded");
            await o.WriteLineAsync($"size:           {ByteSize.Format(status.SizeBytes)}");
            await o.WriteLineAsync(status.LastBuild is { } build
                ? string.Create(CultureInfo.InvariantCulture, $"last build:     {build.Operation} {build.BuiltAt:yyyy-MM-dd HH:mm:ss}Z, {build.BuildSeconds:F1} s over {build.RowCount:N0} rows")
                : "last build:     not recorded (built by a migration or by hand)");
            await o.WriteLineAsync($"search setting: {status.SearchSetting} = {status.SearchValue} ({status.SearchNote})");
            return CommandAction.Success;
        });
        return command;
    }

    private static Command Rebuild(GlobalOptions options, RunnerConsole console)
    {
        var type = new Option<string>("--type") { Description = "hnsw or ivfflat", DefaultValueFactory = _ => VectorIndexManager.Hnsw };
        type.AcceptOnlyFromAmong(VectorIndexManager.Hnsw, VectorIndexManager.Ivfflat);
        var lists = new Option<int?>("--lists") { Description = "IVFFlat lists (default rows/1000 up to 1M rows, √rows beyond)" };
        var m = new Option<int?>("--m") { Description = "HNSW connections per node (default 16)" };
        var efConstruction = new Option<int?>("--ef-construction") { Description = "HNSW build candidate list (default 64)" };
        var precision = new Option<string>("--precision")
        {
            Description = "full (the vectors as stored), half (an index on embedding::halfvec(N): about half the size, nearly the same recall) or binary (hnsw only: sign bits, about an eighth of the size; candidates re-ranked by exact distance, setting binary.rerank_factor)",
            DefaultValueFactory = _ => IndexPrecision.Full,
        };
        precision.AcceptOnlyFromAmong(IndexPrecision.Full, IndexPrecision.Half, IndexPrecision.Binary);
        var planOnly = new Option<bool>("--plan") { Description = "Only print the build plan (memory needed and given, spill, rough time); build nothing" };
        var json = new Option<bool>("--json") { Description = "Print {\"plan\":…,\"build\":…} as JSON (progress still goes to stderr)" };
        var command = new Command("rebuild", "Build a new index CONCURRENTLY and swap it in; searches keep working throughout") { type, lists, m, efConstruction, precision, planOnly, json };
        command.Validators.Add(result =>
        {
            // A validator sees no value for an option left out, not its default: --type's default is hnsw.
            if (RebuildFlagError(result.GetValue(type) ?? VectorIndexManager.Hnsw, result.GetValue(lists), result.GetValue(m), result.GetValue(efConstruction), result.GetValue(precision)) is { } error)
            {
                result.AddError(error);
            }
        });
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var ceiling = BuildMemoryCeiling.Read(context.Settings);
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var manager = new VectorIndexManager(dataSource, ceiling);
            var buildOptions = new IndexBuildOptions(parse.GetValue(type)!, parse.GetValue(lists), parse.GetValue(m), parse.GetValue(efConstruction), parse.GetValue(precision)!);
            if (parse.GetValue(planOnly))
            {
                var plan = await manager.PlanAsync(buildOptions, ModelName(parse, options), cancellationToken);
                if (parse.GetValue(json))
                {
                    await console.Out.WriteLineAsync(JsonSerializer.Serialize(new { plan }, DbFirstJson.Options));
                }
                else
                {
                    foreach (var line in plan.Describe())
                    {
                        await console.Out.WriteLineAsync(line);
                    }
                }

                return CommandAction.Success;
            }

            var planned = parse.GetValue(json) ? await manager.PlanAsync(buildOptions, ModelName(parse, options), cancellationToken) : null;
            var prefixed = new PrefixedWriter(console.Error);
            var build = await manager.RebuildAsync(buildOptions, prefixed, ModelName(parse, options), cancellationToken);
            if (planned is not null)
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new { plan = planned, build }, DbFirstJson.Options));
            }

            await console.Error.WriteLineAsync("dbfirst: the stored search setting was tuned for the previous index; run dbfirst index tune");
            return CommandAction.Success;
        });
        return command;
    }

    private static Command Tune(GlobalOptions options, RunnerConsole console)
    {
        var target = new Option<double>("--target-recall") { Description = "Recall@k to reach", DefaultValueFactory = _ => 0.95 };
        var queries = new Option<int>("--queries") { Description = "Tuning queries (as many again are held out to check the result)", DefaultValueFactory = _ => 200 };
        var k = new Option<int>("--k") { Description = "Neighbours per query", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed for sampling the queries", DefaultValueFactory = _ => 1 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Measure and print, but store and rebuild nothing" };
        var buildParameters = new Option<bool>("--build-parameters")
        {
            Description = "Choose HNSW m and ef_construction too, even when ef_search alone reaches the target (it does so anyway when it cannot)",
        };
        var sample = new Option<int>("--sample") { Description = "Rows sampled to try build parameters on", DefaultValueFactory = _ => BuildTuneOptions.DefaultSampleRows };
        var maxBuildMinutes = new Option<int>("--max-build-minutes")
        {
            Description = "The longest full rebuild (by its plan) build parameters may lead to; larger pairs are not tried (0: no bound)",
            DefaultValueFactory = _ => BuildTuneOptions.DefaultMaxBuildMinutes,
        };
        var json = new Option<bool>("--json") { Description = "Print {\"search\":…,\"build_parameters\":…} as JSON (progress goes to stderr)" };
        var command = new Command(
            "tune",
            "Find the smallest hnsw.ef_search / ivfflat.probes reaching a target recall and store it for the search functions; when that cannot reach it on HNSW, choose m and ef_construction on a sample, rebuild once and tune again")
        {
            target, queries, k, seed, dryRun, buildParameters, sample, maxBuildMinutes, json,
        };
        CommandAction.Set(command, options, console, async (context, parse, cancellationToken) =>
        {
            var ceiling = BuildMemoryCeiling.Read(context.Settings);
            var build = new BuildTuneOptions(parse.GetValue(sample), MaxBuildMinutes: parse.GetValue(maxBuildMinutes));
            build.Validate();
            var asJson = parse.GetValue(json);
            var log = asJson ? console.Error : console.Out;
            await using var dataSource = GalleryDataSource.Create(context.OwnerConnectionString);
            var tune = new TuneOptions(parse.GetValue(target), parse.GetValue(queries), parse.GetValue(k), parse.GetValue(seed), !parse.GetValue(dryRun), ModelName(parse, options));
            var report = await new IndexTuner(dataSource).TuneAsync(tune, log, cancellationToken);
            await log.WriteLineAsync(Chosen(report));
            BuildTuneReport? rebuilt = null;
            if (report.Method == VectorIndexManager.Hnsw && (parse.GetValue(buildParameters) || !report.ReachedTarget))
            {
                await log.WriteLineAsync(report.ReachedTarget
                    ? "choosing build parameters (--build-parameters)"
                    : "ef_search alone does not reach the target: choosing build parameters (m, ef_construction) on a sample");
                rebuilt = await new BuildParameterTuner(dataSource, ceiling).TuneAsync(tune, build, report, log, cancellationToken);
                await log.WriteLineAsync(rebuilt.Build is { } index
                    ? $"chose m = {rebuilt.Chosen.M}, ef_construction = {rebuilt.Chosen.EfConstruction}; rebuilt in {index.BuildSeconds:F0} s, {ByteSize.Format(index.SizeBytes)}"
                    : parse.GetValue(dryRun)
                        ? $"would choose m = {rebuilt.Chosen.M}, ef_construction = {rebuilt.Chosen.EfConstruction}; nothing rebuilt (--dry-run)"
                        : $"chose m = {rebuilt.Chosen.M}, ef_construction = {rebuilt.Chosen.EfConstruction}: the index in place already has them, so it was not rebuilt");
                if (rebuilt.Search is { } search)
                {
                    report = search;
                    await log.WriteLineAsync(Chosen(report));
                }
            }

            if (asJson)
            {
                await console.Out.WriteLineAsync(JsonSerializer.Serialize(new { search = report, buildParameters = rebuilt }, DbFirstJson.Options));
            }

            if (!report.ReachedTarget)
            {
                await console.Error.WriteLineAsync(report.Method == VectorIndexManager.Hnsw
                    ? "dbfirst: the target recall was not reached even at the largest setting tried (see the build parameters tried above)"
                    : "dbfirst: the target recall was not reached even at the largest setting tried; rebuild with more data per list (IVFFlat) or switch to HNSW");
                return CommandAction.Failure;
            }

            return CommandAction.Success;
        });
        return command;
    }

    private static string Chosen(TuneReport report) => string.Create(CultureInfo.InvariantCulture,
        $"chosen: {report.Setting} = {report.Chosen.Value}: held-out recall {report.HeldOut.Recall:F4} ± {report.HeldOutMargin:F4}, p50 {report.HeldOut.P50Ms:F2} ms (exact scan p50 {report.ExactP50Ms:F2} ms){(report.Stored ? "; stored in gallery.settings" : "; not stored (--dry-run)")}");

    // The flags against pgvector's limits and each other, before anything connects; what depends on the table
    // (IVFFlat's minimum rows, at most rows / 10 lists) is checked when the build resolves its parameters.
    private static string? RebuildFlagError(string? type, int? lists, int? m, int? efConstruction, string? precision)
    {
        switch (type)
        {
            case VectorIndexManager.Hnsw:
                if (lists is not null)
                {
                    return "--lists applies to ivfflat, not hnsw";
                }

                var connections = m ?? HnswParameters.DefaultM;
                var candidates = efConstruction ?? HnswParameters.DefaultEfConstruction;
                if (connections is < HnswParameters.MinM or > HnswParameters.MaxM)
                {
                    return $"--m must be between {HnswParameters.MinM} and {HnswParameters.MaxM}, not {connections}";
                }

                return candidates < 2 * connections || candidates > HnswParameters.MaxEfConstruction
                    ? $"--ef-construction must be between 2 x m ({2 * connections}) and {HnswParameters.MaxEfConstruction}, not {candidates}"
                    : null;
            case VectorIndexManager.Ivfflat:
                if (m is not null || efConstruction is not null)
                {
                    return "--m and --ef-construction apply to hnsw, not ivfflat";
                }

                if (precision == IndexPrecision.Binary)
                {
                    return "--precision binary applies to hnsw, not ivfflat: its candidates are over-fetched through an HNSW scan (use --type hnsw, or ivfflat at full or half precision)";
                }

                return lists is < 1 or > IvfflatParameters.MaxLists
                    ? $"--lists must be between 1 and {IvfflatParameters.MaxLists}, not {lists}"
                    : null;
            default:
                // --type's own check names the allowed values.
                return null;
        }
    }

    private static string PrecisionNote(string? precision) => precision switch
    {
        IndexPrecision.Half => " (halfvec: searches cast column and query to halfvec to use it)",
        IndexPrecision.Binary => " (sign bits: searches fetch k x binary.rerank_factor candidates by Hamming distance and re-rank them by exact distance)",
        _ => "",
    };

    // --model names the model whose index is meant: a registered name, or a model folder whose name is read from it.
    // Only the option counts: Clip__ModelPath says which files a process loads, not which index a DBA means.
    private static string? ModelName(ParseResult parse, GlobalOptions options)
    {
        var value = parse.GetValue(options.Model);
        if (string.IsNullOrWhiteSpace(value) || !Directory.Exists(value))
        {
            return string.IsNullOrWhiteSpace(value) ? null : value;
        }

        try
        {
            using var model = ClipModel.Load(value);
            return model.Name;
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidOperationException)
        {
            throw new GalleryException($"--model {value}: {e.Message}", e);
        }
    }

    // Progress lines as the other commands print them: "dbfirst: ..." on stderr.
    private sealed class PrefixedWriter(TextWriter inner) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine($"dbfirst: {value}");

        public override void Write(char value) => inner.Write(value);
    }
}
