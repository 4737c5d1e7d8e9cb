using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Search;

/// <summary>
/// Runs the gallery's search SQL functions (migrations 11-16), so the runner, the host and psql users
/// all search the same way: same filters, same tuned index settings.
/// </summary>
public sealed class GallerySearch
{
    /// <summary>
    /// The most results one search returns: the bound <c>gallery.search_by_embedding</c> (and so <c>gallery.search</c>),
    /// <c>search_descriptions</c> and <c>hybrid_search</c> enforce, mirrored here so a bad k fails before a round trip
    /// (<c>SearchFunctionsTests</c> checks that the two agree).
    /// </summary>
    public const int MaxK = 1000;

    /// <summary>The most results <see cref="SimilarAsync"/> returns: <c>gallery.similar_images</c> asks for one more, to leave the image itself out.</summary>
    public const int MaxSimilarK = MaxK - 1;

    private const string ByEmbeddingSql = "SELECT id, path, distance FROM gallery.search_by_embedding($1, $2, $3, $4, $5)";
    private const string SimilarSql = "SELECT id, path, distance FROM gallery.similar_images($1, $2, $3, $4, $5)";
    private const string TextSql = "SELECT id, path, distance FROM gallery.search($1, $2, $3, $4, $5)";
    private const string DuplicatesSql = """
        SELECT d.id_a, a.path, d.id_b, b.path, d.distance
        FROM gallery.near_duplicates($1, $2, $3) d
        JOIN gallery.image_gallery a ON a.id = d.id_a
        JOIN gallery.image_gallery b ON b.id = d.id_b
        ORDER BY d.distance, d.id_a, d.id_b
        """;

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Creates a searcher over <paramref name="dataSource"/> (built with <c>UseVector</c>).</summary>
    public GallerySearch(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    /// <summary>The <paramref name="k"/> images nearest to <paramref name="query"/>, nearest first.</summary>
    public Task<IReadOnlyList<SearchHit>> SearchByEmbeddingAsync(float[] query, int k, SearchFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        return QueryAsync(ByEmbeddingSql, new Vector(query), k, MaxK, filter, cancellationToken);
    }

    /// <summary>
    /// The <paramref name="k"/> images nearest to a text embedding, after checking it comes from the registry's active
    /// model: searches rank only that model's vectors, and a vector of another model (a process whose own model is not
    /// the active one and could not load it) would be compared meaninglessly, or fail on its dimension. The active model
    /// is the one the embedder read while encoding (<see cref="TextEmbedding.ActiveModel"/>), else read here.
    /// </summary>
    /// <exception cref="GalleryException">The embedding's model is not the active one.</exception>
    public async Task<IReadOnlyList<SearchHit>> SearchByTextEmbeddingAsync(TextEmbedding text, int k, SearchFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var active = text.ActiveModel ?? await ReadActiveModelAsync(cancellationToken);
        if (active is not null && active != text.Model)
        {
            throw new GalleryException(
                $"the gallery's active model is {active}, but this process encodes text with {text.Model} and could not load {active}: see `dbfirst model list` for its folder, or pass --model");
        }

        return await SearchByEmbeddingAsync(text.Embedding, k, filter, cancellationToken);
    }

    private async Task<string?> ReadActiveModelAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT name FROM gallery.clip_models WHERE state = 'active'");
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The <paramref name="k"/> images most similar to image <paramref name="imageId"/>, itself left out.</summary>
    /// <exception cref="GalleryException">The image does not exist or has no embedding yet.</exception>
    public async Task<IReadOnlyList<SearchHit>> SimilarAsync(long imageId, int k, SearchFilter? filter = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await QueryAsync(SimilarSql, imageId, k, MaxSimilarK, filter, cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.NoDataFound)
        {
            throw new GalleryException(exception.MessageText.Replace("gallery.similar_images: ", "", StringComparison.Ordinal), exception);
        }
    }

    /// <summary>
    /// Text-to-image search through <c>gallery.search</c>, which gets uncached text embeddings from the
    /// <c>dbfirst serve</c> host. The runner embeds in-process instead; this is what psql users get.
    /// </summary>
    public async Task<IReadOnlyList<SearchHit>> SearchTextAsync(string text, int k, SearchFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            return await QueryAsync(TextSql, text, k, MaxK, filter, cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == TextEncoderUnavailable)
        {
            throw new GalleryException(exception.MessageText, exception);
        }
    }

    /// <summary>Pairs of near-identical images, closest first, found through a k-NN per image.</summary>
    public async Task<IReadOnlyList<DuplicatePair>> NearDuplicatesAsync(double maxDistance, int neighbours = 10, string? folder = null, CancellationToken cancellationToken = default)
    {
        if (maxDistance is < 0 or > 2)
        {
            throw new GalleryException($"the maximum distance must be between 0 and 2, not {maxDistance}");
        }

        await using var command = _dataSource.CreateCommand(DuplicatesSql);
        command.Parameters.Add(new NpgsqlParameter { Value = (float)maxDistance, NpgsqlDbType = NpgsqlDbType.Real });
        command.Parameters.Add(new NpgsqlParameter { Value = neighbours, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)folder ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var pairs = new List<DuplicatePair>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            pairs.Add(new DuplicatePair(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetFloat(4)));
        }

        return pairs;
    }

    /// <summary>SQLSTATE that <c>gallery.text_embedding</c> raises when <c>dbfirst serve</c> does not answer.</summary>
    public const string TextEncoderUnavailable = "DF001";

    private async Task<IReadOnlyList<SearchHit>> QueryAsync(string sql, object first, int k, int maxK, SearchFilter? filter, CancellationToken cancellationToken)
    {
        if (k < 1 || k > maxK)
        {
            throw new GalleryException($"k must be between 1 and {maxK}, not {k}");
        }

        await using var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = first });
        command.Parameters.Add(new NpgsqlParameter { Value = k, NpgsqlDbType = NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter?.Folder ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter?.TakenFrom?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)filter?.TakenTo?.ToUniversalTime() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var hits = new List<SearchHit>(k);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            hits.Add(new SearchHit(reader.GetInt64(0), reader.GetString(1), reader.GetFloat(2)));
        }

        return hits;
    }
}
