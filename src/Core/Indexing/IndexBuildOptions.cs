namespace DbFirst.Indexing;

/// <summary>What <c>dbfirst index rebuild</c> builds; <see langword="null"/> values are chosen for the table.</summary>
/// <param name="Method"><c>hnsw</c> or <c>ivfflat</c>.</param>
/// <param name="Lists">IVFFlat lists; <see langword="null"/> picks <see cref="IvfflatLists.ForRows"/>.</param>
/// <param name="M">HNSW connections per node; <see langword="null"/> keeps pgvector's 16.</param>
/// <param name="EfConstruction">HNSW build candidate list; <see langword="null"/> keeps pgvector's 64.</param>
/// <param name="Precision"><see cref="IndexPrecision.Full"/>, <see cref="IndexPrecision.Half"/> or <see cref="IndexPrecision.Binary"/> (HNSW only).</param>
public sealed record IndexBuildOptions(string Method = VectorIndexManager.Hnsw, int? Lists = null, int? M = null, int? EfConstruction = null, string Precision = IndexPrecision.Full)
{
    /// <summary>The build that recreates an index with <paramref name="parameters"/> and <paramref name="precision"/> over <paramref name="rows"/> rows.</summary>
    /// <remarks>
    /// IVFFlat lists follow the rows now, as pgvector advises, rather than the rows of the lost build; with too few
    /// rows for IVFFlat the index comes back as HNSW. No parameters (nothing recorded) gives pgvector's HNSW defaults.
    /// A binary index is only ever HNSW, so binary precision never comes back as IVFFlat.
    /// </remarks>
    internal static IndexBuildOptions Recreating(IndexParameters? parameters, long rows, string? precision = null) => parameters switch
    {
        IvfflatParameters when rows >= VectorIndexManager.MinIvfflatRows && precision != IndexPrecision.Binary => new IndexBuildOptions(VectorIndexManager.Ivfflat, Precision: precision ?? IndexPrecision.Full),
        HnswParameters hnsw => new IndexBuildOptions(VectorIndexManager.Hnsw, M: hnsw.M, EfConstruction: hnsw.EfConstruction, Precision: precision ?? IndexPrecision.Full),
        _ => new IndexBuildOptions(VectorIndexManager.Hnsw, Precision: precision ?? IndexPrecision.Full),
    };

    /// <summary>
    /// The parameters to build with over <paramref name="rows"/> embedded rows: defaults filled in, checked against
    /// the table. The flags' own ranges are checked where they are read (<c>dbfirst index rebuild</c>); values out
    /// of pgvector's range from elsewhere fail here too.
    /// </summary>
    /// <exception cref="GalleryException">No rows, an unknown method, parameters of the other method, binary precision with IVFFlat, or too few rows for IVFFlat's lists.</exception>
    internal IndexParameters Resolve(long rows)
    {
        var method = Method.Trim().ToLowerInvariant();
        if (rows == 0)
        {
            throw new GalleryException("the model has no embeddings yet: there is nothing to index (embed images first)");
        }

        switch (method)
        {
            case VectorIndexManager.Hnsw:
                if (Lists is not null)
                {
                    throw new GalleryException("lists applies to ivfflat, not hnsw");
                }

                return Checked(() => new HnswParameters(M ?? HnswParameters.DefaultM, EfConstruction ?? HnswParameters.DefaultEfConstruction));
            case VectorIndexManager.Ivfflat:
                if (M is not null || EfConstruction is not null)
                {
                    throw new GalleryException("m and ef_construction apply to hnsw, not ivfflat");
                }

                // pgvector would build it, but the search functions widen only an HNSW scan (ef_search) to the
                // candidates they re-rank, and k-means lists trained on sign bits are coarse.
                if (IndexPrecision.Resolve(Precision) == IndexPrecision.Binary)
                {
                    throw new GalleryException("binary precision applies to hnsw, not ivfflat: its candidates are over-fetched through an HNSW scan (use hnsw, or ivfflat at full or half precision)");
                }

                if (rows < VectorIndexManager.MinIvfflatRows)
                {
                    throw new GalleryException(
                        $"the model has only {rows:N0} embedded rows: an IVFFlat index trains its lists on the rows present and needs at least {VectorIndexManager.MinIvfflatRows:N0} (keep HNSW, which suits small tables)");
                }

                var lists = Lists ?? IvfflatLists.ForRows(rows);
                if (lists > rows / 10)
                {
                    throw new GalleryException($"--lists must be at most {rows / 10:N0} for {rows:N0} rows (at least 10 rows per list), not {lists}");
                }

                return Checked(() => new IvfflatParameters(lists));
            default:
                throw new GalleryException($"the index type must be hnsw or ivfflat, not '{Method}'");
        }
    }

    private static IndexParameters Checked(Func<IndexParameters> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentOutOfRangeException exception)
        {
            throw new GalleryException($"index parameters outside pgvector's limits: {exception.ParamName} = {exception.ActualValue}", exception);
        }
    }
}
