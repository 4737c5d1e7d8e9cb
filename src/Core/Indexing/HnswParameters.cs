using System.Globalization;

namespace DbFirst.Indexing;

/// <summary>The parameters of an HNSW index, within pgvector's limits (checked on construction).</summary>
public sealed record HnswParameters : IndexParameters
{
    /// <summary>pgvector's default connections per node.</summary>
    public const int DefaultM = 16;

    /// <summary>pgvector's default build candidate list.</summary>
    public const int DefaultEfConstruction = 64;

    /// <summary>pgvector's smallest m.</summary>
    public const int MinM = 2;

    /// <summary>pgvector's largest m.</summary>
    public const int MaxM = 100;

    /// <summary>pgvector's largest ef_construction; the smallest is 2 × m.</summary>
    public const int MaxEfConstruction = 1000;

    /// <summary>Creates the parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside pgvector's limits.</exception>
    public HnswParameters(int m = DefaultM, int efConstruction = DefaultEfConstruction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, MinM);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, MaxM);
        ArgumentOutOfRangeException.ThrowIfLessThan(efConstruction, 2 * m);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(efConstruction, MaxEfConstruction);
        M = m;
        EfConstruction = efConstruction;
    }

    /// <summary>Connections per node.</summary>
    public int M { get; }

    /// <summary>Candidate list size while building.</summary>
    public int EfConstruction { get; }

    /// <inheritdoc/>
    public override string Method => VectorIndexManager.Hnsw;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"m = {M}, ef_construction = {EfConstruction}");
}
