namespace DbFirst.Indexing;

/// <summary>
/// Reports on, rebuilds and maintains the vector index on <c>gallery.image_gallery.embedding</c>.
/// A rebuild builds a new index <c>CONCURRENTLY</c> beside the old one and then swaps them, so searches
/// keep using the old index until the new one is ready and never block or fail.
/// DbFirst manages exactly one index, marked by its name (<see cref="IndexName"/>, and <c>…_new</c> while a rebuild
/// builds its replacement); any other vector index on the table, such as one a DBA added, is reported but never
/// dropped or rebuilt.
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

    /// <summary>The name the gallery's vector index always ends up with: the mark of the one index DbFirst manages.</summary>
    public const string IndexName = "image_gallery_embedding_idx";

    /// <summary>An IVFFlat index trains its lists on the rows present: with fewer rows it is worse than a scan.</summary>
    public const long MinIvfflatRows = 1000;

    /// <summary>Drift in row count, or share of rows changed, past which the maintain-index job rebuilds.</summary>
    public const double DriftThreshold = 0.20;

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
        _builder = new IndexBuilder(dataSource, ceiling);
        _status = new IndexStatusReader(dataSource);
        _maintainer = new IndexMaintainer(dataSource, _builder, _status);
    }

    /// <summary>
    /// What <see cref="RebuildAsync"/> would do with <paramref name="options"/>: memory needed and given, whether the
    /// HNSW graph spills to pgvector's on-disk path, and roughly how long it takes. Builds nothing.
    /// </summary>
    /// <exception cref="GalleryException">Bad options or a table too small for IVFFlat.</exception>
    public Task<BuildPlan> PlanAsync(IndexBuildOptions options, CancellationToken cancellationToken = default) =>
        _builder.PlanAsync(options, cancellationToken);

    /// <summary>Reads the index's type, parameters, size, row count, last build and the search setting in force.</summary>
    public Task<VectorIndexStatus> GetStatusAsync(CancellationToken cancellationToken = default) => _status.ReadAsync(cancellationToken);

    /// <summary>
    /// Builds a new index concurrently, drops the old one concurrently and renames the new one to
    /// <see cref="IndexName"/>. Progress lines go to <paramref name="log"/>.
    /// </summary>
    /// <exception cref="GalleryException">Bad options, a table too small for IVFFlat, or another rebuild running.</exception>
    public Task<IndexBuild> RebuildAsync(IndexBuildOptions options, TextWriter? log = null, CancellationToken cancellationToken = default) =>
        _builder.RebuildAsync(options, log, cancellationToken);

    /// <summary>
    /// The recurring maintain-index job. It first heals: a managed index that is missing, or invalid
    /// (<c>pg_index.indisvalid = false</c>, left by a failed concurrent build, which searches cannot use), is rebuilt
    /// with its recorded method and parameters, and an invalid spare left by an interrupted rebuild is dropped. Then it
    /// rebuilds an IVFFlat index whose row count drifted more than
    /// <see cref="DriftThreshold"/> since it was built (its lists no longer fit the data), and reindexes an
    /// HNSW index concurrently when more than that share of its rows was updated or deleted since its
    /// build, or it grew past 1.5 times its built size (dead graph elements). Safe to run twice.
    /// </summary>
    /// <returns>What it did, for the job log.</returns>
    public Task<string> MaintainAsync(TextWriter? log = null, CancellationToken cancellationToken = default) =>
        _maintainer.MaintainAsync(log, cancellationToken);
}
