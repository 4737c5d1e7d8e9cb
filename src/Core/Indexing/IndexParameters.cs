using System.Globalization;
using System.Text.Json.Serialization;

namespace DbFirst.Indexing;

/// <summary>
/// The build parameters of a pgvector index, typed: <see cref="HnswParameters"/> or <see cref="IvfflatParameters"/>.
/// <see cref="ToString"/> gives the form used in the index's <c>WITH (...)</c>, in <c>gallery.index_builds.parameters</c>
/// and on screen (<c>m = 16, ef_construction = 64</c>); JSON output carries that same text.
/// </summary>
[JsonConverter(typeof(IndexParametersJsonConverter))]
public abstract record IndexParameters
{
    private protected IndexParameters()
    {
    }

    /// <summary>The index method: <c>hnsw</c> or <c>ivfflat</c>.</summary>
    public abstract string Method { get; }

    /// <summary>The parameters as in <c>WITH (...)</c>, pgvector's defaults spelled out.</summary>
    public abstract override string ToString();

    /// <summary>
    /// Reads the parameters of a <paramref name="method"/> index from <c>pg_class.reloptions</c> (<c>m=16</c>) or
    /// from <c>gallery.index_builds.parameters</c> (<c>m = 16, ef_construction = 64</c>); a parameter absent or
    /// unreadable keeps pgvector's default, as pgvector itself does.
    /// </summary>
    /// <returns><see langword="null"/> for a method other than <c>hnsw</c> or <c>ivfflat</c>.</returns>
    public static IndexParameters? Parse(string? method, string? text)
    {
        var settings = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(option => option.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(pair => pair.Length == 2 && int.TryParse(pair[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            .ToDictionary(pair => pair[0], pair => int.Parse(pair[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
        return method switch
        {
            VectorIndexManager.Hnsw => new HnswParameters(
                settings.GetValueOrDefault("m", HnswParameters.DefaultM),
                settings.GetValueOrDefault("ef_construction", HnswParameters.DefaultEfConstruction)),
            VectorIndexManager.Ivfflat => new IvfflatParameters(settings.GetValueOrDefault("lists", IvfflatParameters.DefaultLists)),
            _ => null,
        };
    }
}
