using System.Globalization;

namespace DbFirst.Indexing;

/// <summary>The parameters of an IVFFlat index, within pgvector's limits (checked on construction).</summary>
public sealed record IvfflatParameters : IndexParameters
{
    /// <summary>pgvector's default number of lists.</summary>
    public const int DefaultLists = 100;

    /// <summary>pgvector's largest number of lists.</summary>
    public const int MaxLists = 32768;

    /// <summary>Creates the parameters.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside pgvector's limits.</exception>
    public IvfflatParameters(int lists = DefaultLists)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lists, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lists, MaxLists);
        Lists = lists;
    }

    /// <summary>Clusters the vectors are divided into.</summary>
    public int Lists { get; }

    /// <inheritdoc/>
    public override string Method => VectorIndexManager.Ivfflat;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"lists = {Lists}");
}
