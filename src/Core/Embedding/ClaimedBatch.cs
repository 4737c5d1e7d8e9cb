using Npgsql;

namespace DbFirst.Embedding;

/// <summary>
/// Rows locked by one open transaction. The locks are the claim: other workers skip the rows until this
/// transaction commits (with the rows' embeddings) or ends any other way (rolled back, connection lost).
/// </summary>
internal sealed class ClaimedBatch : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private bool _finished;

    public ClaimedBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ClaimedRow> rows)
    {
        _connection = connection;
        _transaction = transaction;
        Rows = rows;
    }

    public IReadOnlyList<ClaimedRow> Rows { get; }

    public NpgsqlConnection Connection => _connection;

    public NpgsqlTransaction Transaction => _transaction;

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        await _transaction.CommitAsync(cancellationToken);
        _finished = true;
    }

    /// <summary>Hands the rows back untouched: rolls back, or lets the closing connection do it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_finished)
        {
            _finished = true;
            try
            {
                await _transaction.RollbackAsync(CancellationToken.None);
            }
            catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
            {
                // The connection is already broken; the server rolls back when it notices.
            }
        }

        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
