using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// The stored-neighbour figures of <c>dbfirst bench search</c> (configuration <c>duplicates</c>): the backfill of the
/// loaded rows (each looked up once through the index in place), what a newly embedded image costs (its lookup runs
/// in the statement that writes its embedding), and how fast <c>gallery.near_duplicates</c> answers.
/// </summary>
internal sealed class NeighbourBenchmark
{
    // As dbfirst embed writes them by default (Embedding:BatchSize).
    private const int EmbedBatch = 32;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TextWriter _log;

    public NeighbourBenchmark(NpgsqlDataSource dataSource, TextWriter log)
    {
        _dataSource = dataSource;
        _log = log;
    }

    /// <summary>
    /// Times new images (the <paramref name="probes"/>; their lookups run inline whatever the queue holds), backfills up
    /// to <paramref name="fill"/> queued images (all when null), then times near_duplicates.
    /// </summary>
    public async Task<(IReadOnlyList<SearchBenchmarkRow> Rows, IReadOnlyList<string> Notes)> RunAsync(float[][] probes, long? fill, CancellationToken cancellationToken)
    {
        var c = CultureInfo.InvariantCulture;
        var rows = new List<SearchBenchmarkRow>();
        var notes = new List<string>();
        var ids = await NewImagesAsync(probes.Length, cancellationToken);
        var single = new List<double>();
        var lookups = new List<double>();
        var half = probes.Length / 2;
        for (var i = 0; i < half; i++)
        {
            single.Add(await EmbedAsync([ids[i]], [probes[i]], cancellationToken));
            lookups.Add(await LookUpAsync([ids[i]], cancellationToken));
        }

        var batched = 0.0;
        var batchedLookups = 0.0;
        var inBatches = 0;
        for (var i = half; i + EmbedBatch <= probes.Length; i += EmbedBatch)
        {
            batched += await EmbedAsync(ids[i..(i + EmbedBatch)], probes[i..(i + EmbedBatch)], cancellationToken);
            batchedLookups += await LookUpAsync(ids[i..(i + EmbedBatch)], cancellationToken);
            inBatches += EmbedBatch;
        }

        rows.Add(new SearchBenchmarkRow("new image: embedding write + its neighbour lookup, one image per statement", $"{half} images", double.NaN,
            IndexTuner.Percentile(single, 0.5), IndexTuner.Percentile(single, 0.95), null));
        _log.WriteLine(string.Create(c, $"new images, one per statement: p50 {rows[^1].P50Ms:F2} ms, p95 {rows[^1].P95Ms:F2} ms"));
        // What stored neighbours add to an image's write: the write itself also inserts into the vector index.
        rows.Add(new SearchBenchmarkRow("new image: its neighbour lookup alone (the trigger's work, repeated)", $"{half} images", double.NaN,
            IndexTuner.Percentile(lookups, 0.5), IndexTuner.Percentile(lookups, 0.95), null));
        _log.WriteLine(string.Create(c, $"neighbour lookup alone, one image: p50 {rows[^1].P50Ms:F2} ms, p95 {rows[^1].P95Ms:F2} ms"));
        if (inBatches > 0)
        {
            notes.Add(string.Create(c, $"new images in statements of {EmbedBatch} (as dbfirst embed writes them): {batched / inBatches:F2} ms per image, neighbour lookups included; the lookups alone {batchedLookups / inBatches:F2} ms per image"));
            _log.WriteLine(notes[^1]);
        }

        var backfill = new NeighbourBackfill(_dataSource);
        var pending = await backfill.PendingAsync(cancellationToken);
        _log.WriteLine($"stored neighbours: looking up {Math.Min(pending, fill ?? long.MaxValue):N0} of {pending:N0} queued images");
        var watch = Stopwatch.StartNew();
        var lastLog = TimeSpan.Zero;
        var done = await backfill.FillAsync(fill ?? long.MaxValue, new Progress<long>(count =>
        {
            if (watch.Elapsed - lastLog > TimeSpan.FromMinutes(1))
            {
                lastLog = watch.Elapsed;
                _log.WriteLine($"  {count:N0} looked up");
            }
        }), cancellationToken);
        var seconds = watch.Elapsed.TotalSeconds;
        notes.Add(string.Create(c, $"stored neighbours: backfill of {done:N0} loaded images in {seconds:F0} s ({seconds * 1000 / Math.Max(1, done):F2} ms per image); {pending - done:N0} left queued"));
        _log.WriteLine(notes[^1]);

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        var pairs = await CountAsync(connection, "SELECT count(*) FROM gallery.image_neighbours", cancellationToken);
        foreach (var distance in new[] { 0.01, 0.05 })
        {
            await using var command = new NpgsqlCommand("SELECT count(*) FROM gallery.near_duplicates($1::real)", connection)
            {
                Parameters = { new() { Value = distance } },
            };
            var latencies = new List<double>();
            long found = 0;
            for (var i = 0; i < 21; i++)
            {
                var call = Stopwatch.StartNew();
                found = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
                if (i > 0)
                {
                    latencies.Add(call.Elapsed.TotalMilliseconds);
                }
            }

            rows.Add(new SearchBenchmarkRow(string.Create(c, $"gallery.near_duplicates({distance}): {found:N0} pairs"), string.Create(c, $"{pairs:N0} stored pairs"), double.NaN,
                IndexTuner.Percentile(latencies, 0.5), IndexTuner.Percentile(latencies, 0.95), null));
        }

        return (rows, notes);
    }

    private async Task<long[]> NewImagesAsync(int count, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(
            "INSERT INTO gallery.image_gallery (path, taken_at) SELECT '/synthetic-new/' || n || '.jpg', now() FROM generate_series(1, $1) n RETURNING id");
        command.Parameters.Add(new NpgsqlParameter { Value = count });
        var ids = new List<long>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetInt64(0));
        }

        return ids.Order().ToArray();
    }

    // One statement writing the embeddings of these images, as the embed path does; returns its milliseconds.
    private async Task<double> EmbedAsync(long[] ids, float[][] vectors, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("INSERT INTO gallery.image_embeddings (model_id, image_id, embedding) VALUES ");
        await using var command = new NpgsqlCommand();
        for (var i = 0; i < ids.Length; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(1, ${(2 * i) + 1}, ${(2 * i) + 2})");
            command.Parameters.Add(new NpgsqlParameter { Value = ids[i] });
            command.Parameters.Add(new NpgsqlParameter { Value = new Vector(vectors[i]) });
        }

        command.CommandText = sql.ToString();
        return await TimeAsync(command, cancellationToken);
    }

    // The trigger's lookup for these images run again (gallery.refresh_neighbours: one index probe each, and each
    // neighbour told of the image); returns its milliseconds.
    private async Task<double> LookUpAsync(long[] ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT gallery.refresh_neighbours(1, $1)")
        {
            Parameters = { new() { Value = ids } },
        };
        return await TimeAsync(command, cancellationToken);
    }

    // The statement alone in its own transaction, its commit (a WAL flush, the same with or without neighbours) left
    // out; returns its milliseconds.
    private async Task<double> TimeAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        command.Connection = connection;
        command.Transaction = transaction;
        var watch = Stopwatch.StartNew();
        await command.ExecuteNonQueryAsync(cancellationToken);
        var milliseconds = watch.Elapsed.TotalMilliseconds;
        await transaction.CommitAsync(cancellationToken);
        return milliseconds;
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
