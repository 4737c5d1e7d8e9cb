using Npgsql;

namespace DbFirst.Claude;

/// <summary>
/// The open transaction that stores one ended batch's results (<see cref="DescribeStore.BeginCollectingAsync"/>): a
/// crash stores a batch completely or not at all. Disposing it without <see cref="CompleteAsync"/> rolls back.
/// </summary>
internal sealed class DescribeBatchStorage : IAsyncDisposable
{
    private readonly string _batchId;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    internal DescribeBatchStorage(string batchId, NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<string, DescribeBatchItem> items)
    {
        _batchId = batchId;
        _connection = connection;
        _transaction = transaction;
        Items = items;
    }

    /// <summary>The requests the batch was sent with, by custom id: the only results trusted.</summary>
    public IReadOnlyDictionary<string, DescribeBatchItem> Items { get; }

    /// <summary>Stores a description as the synchronous path does: only while the image still has the content sent.</summary>
    /// <returns>False when the image changed meanwhile and stays pending.</returns>
    public Task<bool> StoreDescriptionAsync(DescribeBatchItem item, ClaudeReply reply, string model, CancellationToken cancellationToken) =>
        DescribeStore.StoreDescriptionAsync(_connection, _transaction, item.ImageId, item.ContentSha256, reply, model, cancellationToken);

    /// <summary>Records a failed item; the image's description stays as it was.</summary>
    public Task StoreFailureAsync(DescribeBatchItem item, string error, CancellationToken cancellationToken) =>
        DescribeStore.StoreFailureAsync(_connection, _transaction, item.ImageId, error, cancellationToken);

    /// <summary>Marks the batch collected and commits everything stored through this object.</summary>
    public async Task CompleteAsync(DateTimeOffset endedAt, CancellationToken cancellationToken)
    {
        await DescribeStore.SetBatchStatusAsync(_connection, _transaction, _batchId, "collected", endedAt, cancellationToken);
        await _transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
