namespace DbFirst.Indexing;

/// <summary>pgvector's recommendation for the number of IVFFlat lists.</summary>
public static class IvfflatLists
{
    /// <summary>rows / 1000 up to a million rows, √rows beyond (pgvector README, "IVFFlat: lists"); at least 1.</summary>
    public static int ForRows(long rows) =>
        rows <= 1_000_000 ? (int)Math.Max(1, rows / 1000) : (int)Math.Ceiling(Math.Sqrt(rows));
}
