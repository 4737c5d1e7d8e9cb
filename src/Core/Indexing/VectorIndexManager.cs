namespace DbFirst.Indexing;

/// <summary>
/// Reports on, rebuilds and maintains each model's vector index: an expression index on <c>embedding::vector(N)</c>
/// of the model's partition <c>gallery.image_embeddings_m&lt;id&gt;</c> (see <see cref="IndexTarget"/>). Every method
/// acts on the active model unless given a model name (the staged one, before <c>dbfirst model promote</c>).
/// A rebuild builds a new index <c>CONCURRENTLY</c> beside the old one and then swaps them, so searches
/// keep using the old index until the new one is ready and never block or fail.
/// DbFirst manages exactly one index per model, marked by its name (<c>image_embeddings_m&lt;id&gt;_embedding_idx</c>, and
/// <c>…_new</c> while a rebuild builds its replacement); any other vector index on the partition, such as one a DBA
/// added, is reported but never dropped or rebuilt.
/// </summary>
/// <remarks>
/// The work is split by concern: <see cref="IndexStatusReader"/> (status), <see cref="IndexBuilder"/> (plan, build,
/// swap, reindex) in an <see cref="IndexBuildSession"/> (the rebuild lock and build memory),
/// <see cref="IndexBuildHistory"/> (<c>gallery.index_builds</c>), <see cref="IndexMaintainer"/> (the recurring job),
/// <see cref="VectorIndexCatalog"/> (what PostgreSQL's catalog says); parameters travel as <see cref="IndexParameters"/>.
/// </remarks>
public sealed class VectorIndexManager
{
    /// <summary>The method name of pgvector's HNSW index.</summary>
    public const string Hnsw = "hnsw";

    /// <summary>The method name of pgvector's IVFFlat index.</summary>
    public const string Ivfflat = "ivfflat";

    /// <summary>An IVFFlat index trains its lists on the rows present: with fewer rows it is worse than a scan.</summary>
    public const long MinIvfflatRows = 1000;

    /// <summary>Drift in row count, or share of rows changed, past which the maintain-index job rebuilds.</summary>
    public const double DriftThreshold = 0.20;

    private readonly Npgsql.NpgsqlDataSource _dataSource;
    private readonly IndexBuilder _builder;
    private readonly IndexStatusReader _status;
    private readonly IndexMaintainer _maintainer;

    /// <summary>Creates a manager over <paramref name="dataSource"/>.</summary>
    /// <param name="dataSource">The owner's data source: builds and swaps need table ownership.</param>
    /// <param name="buildMemoryCeiling">The most <c>maintenance_work_mem</c> a build may take; <see cref="BuildMemoryCeiling.Default"/> when null.</param>
    public VectorIndexManager(Npgsql.NpgsqlDataSource dataSource, long? buildMemoryCeiling = null)
    {
        var ceiling = buildMemoryCeiling ?? BuildMemoryCeiling.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(ceiling, BuildMemoryCeiling.MinBytes);
        _dataSource = dataSource;
        _builder = new IndexBuilder(dataSource, ceiling);
        _status = new IndexStatusReader(dataSource);
        _maintainer = new IndexMaintainer(dataSource, _builder, _status);
    }

    /// <summary>
    /// What <see cref="RebuildAsync"/> would do with <paramref name="options"/>: memory needed and given, whether the
    /// HNSW graph spills to pgvector's on-disk path, and roughly how long it takes. Builds nothing.
    /// </summary>
    /// <param name="options">Method and parameters.</param>
    /// <param name="model">A registered model's name; the active model when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="GalleryException">Bad options, a table too small for IVFFlat, or no such model.</exception>
    public async Task<BuildPlan> PlanAsync(IndexBuildOptions options, string? model = null, CancellationToken cancellationToken = default) =>
        await _builder.PlanAsync(await ResolveAsync(model, cancellationToken), options, cancellationToken);

    /// <summary>Reads the model's index type, parameters, size, row count, last build and the search setting in force.</summary>
    /// <exception cref="GalleryException">No such model (or no active one).</exception>
    public async Task<VectorIndexStatus> GetStatusAsync(string? model = null, CancellationToken cancellationToken = default) =>
        await _status.ReadAsync(await ResolveAsync(model, cancellationToken), cancellationToken);

    /// <summary>
    /// Builds a new index of the model concurrently, drops the old one concurrently and renames the new one to the
    /// managed name. Progress lines go to <paramref name="log"/>.
    /// </summary>
    /// <exception cref="GalleryException">Bad options, a table too small for IVFFlat, another rebuild running, or no such model.</exception>
    public async Task<IndexBuild> RebuildAsync(IndexBuildOptions options, TextWriter? log = null, string? model = null, CancellationToken cancellationToken = default) =>
        await _builder.RebuildAsync(await ResolveAsync(model, cancellationToken), options, log, cancellationToken);

    /// <summary>
    /// The recurring maintain-index job, for the active model and then the staged one. It first heals: a managed index
    /// that is missing, or invalid (<c>pg_index.indisvalid = false</c>, left by a failed concurrent build, which searches
    /// cannot use), is rebuilt with its recorded method and parameters, and an invalid spare left by an interrupted
    /// rebuild is dropped. Then it rebuilds an IVFFlat index whose row count drifted more than
    /// <see cref="DriftThreshold"/> since it was built (its lists no longer fit the data), and reindexes an
    /// HNSW index concurrently when more than that share of its rows was updated or deleted since its
    /// build, or it grew past 1.5 times its built size (dead graph elements). Safe to run twice.
    /// </summary>
    /// <returns>What it did, for the job log.</returns>
    public async Task<string> MaintainAsync(TextWriter? log = null, CancellationToken cancellationToken = default)
    {
        var targets = new List<IndexTarget>();
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken))
        {
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT name FROM gallery.clip_models WHERE state IN ('active', 'staged') ORDER BY state = 'active' DESC", connection);
            var names = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    names.Add(reader.GetString(0));
                }
            }

            foreach (var name in names)
            {
                targets.Add(await IndexTarget.ResolveAsync(connection, name, cancellationToken));
            }
        }

        if (targets.Count == 0)
        {
            return "no model registered yet: nothing to index";
        }

        if (targets.Count == 1)
        {
            return await _maintainer.MaintainAsync(targets[0], log, cancellationToken);
        }

        var done = new List<string>();
        foreach (var target in targets)
        {
            done.Add($"{target.State} model {target.ModelName}: {await _maintainer.MaintainAsync(target, log, cancellationToken)}");
        }

        return string.Join("; ", done);
    }

    private async Task<IndexTarget> ResolveAsync(string? model, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        return await IndexTarget.ResolveAsync(connection, model, cancellationToken);
    }
}
