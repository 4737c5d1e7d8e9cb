using Npgsql;

namespace DbFirst.Indexing;

/// <summary>Reads the vector index's state: type, parameters, size, rows, last build and the search setting in force.</summary>
internal sealed class IndexStatusReader
{
    private const string SettingSql = "SELECT value, note FROM gallery.settings WHERE key = $1";

    private readonly NpgsqlDataSource _dataSource;

    public IndexStatusReader(NpgsqlDataSource dataSource) => _dataSource = dataSource;

    public async Task<VectorIndexStatus> ReadAsync(IndexTarget target, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var index = await VectorIndexCatalog.FindAnyAsync(connection, target, cancellationToken);
        var rows = await VectorIndexCatalog.CountEmbeddedAsync(connection, target, cancellationToken);
        if (index is null)
        {
            return new VectorIndexStatus(null, null, null, false, 0, rows, null, null, null, "no vector index: searches scan the whole table (dbfirst index rebuild builds one)");
        }

        // The last build is the managed index's; any other index found here has none recorded under its name.
        var lastBuild = index.Name == target.IndexName ? await IndexBuildHistory.LastAsync(connection, target, cancellationToken) : null;
        var hnsw = index.Method == VectorIndexManager.Hnsw;
        var setting = hnsw ? "hnsw.ef_search" : "ivfflat.probes";
        var (value, note) = await ReadSettingAsync(connection, target.TuningKey(setting), cancellationToken);
        value ??= hnsw ? "40" : "1";
        note ??= target.State == "active"
            ? "pgvector's default (dbfirst index tune picks a value for a target recall)"
            : $"never tuned: pgvector's default once active (dbfirst index tune --model {target.ModelName} picks one before promote)";
        return new VectorIndexStatus(index.Name, index.Method, index.Parameters, index.IsValid, index.SizeBytes, rows, lastBuild, setting, value, note, index.Precision);
    }

    private static async Task<(string? Value, string? Note)> ReadSettingAsync(NpgsqlConnection connection, string key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(SettingSql, connection) { Parameters = { new() { Value = key } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : (null, null);
    }
}
