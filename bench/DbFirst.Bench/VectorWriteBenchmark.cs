using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace DbFirst.Bench;

/// <summary>
/// Rows per second for writing 512-d vectors three ways: binary COPY (what DbFirst does), and the seed article's
/// multi-row <c>INSERT … VALUES (…), (…)</c> with vectors as parameters and as literals. Vectors come from a
/// pre-built pool (literals pre-formatted too), so the timings measure the database path, not the generator.
/// </summary>
internal sealed class VectorWriteBenchmark
{
    private const int Dimension = 512;
    private const int PoolSize = 1000;

    private const string CreateTableSql = """
        CREATE TABLE IF NOT EXISTS public.bench_vectors (id bigint NOT NULL, path text NOT NULL, embedding vector(512) NOT NULL);
        TRUNCATE public.bench_vectors;
        """;

    private const string CopySql = "COPY public.bench_vectors (id, path, embedding) FROM STDIN (FORMAT BINARY)";

    private readonly NpgsqlDataSource _dataSource;
    private readonly Vector[] _pool;
    private readonly string[] _literals;

    public VectorWriteBenchmark(NpgsqlDataSource dataSource)
    {
        _dataSource = dataSource;
        var random = new Random(42);
        _pool = new Vector[PoolSize];
        _literals = new string[PoolSize];
        for (var i = 0; i < PoolSize; i++)
        {
            var values = new float[Dimension];
            for (var d = 0; d < Dimension; d++)
            {
                values[d] = (float)(random.NextDouble() * 2 - 1);
            }

            var norm = MathF.Sqrt(values.Sum(v => v * v));
            for (var d = 0; d < Dimension; d++)
            {
                values[d] /= norm;
            }

            _pool[i] = new Vector(values);
            _literals[i] = "[" + string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
        }
    }

    /// <summary>Runs each method once on a few rows so that no timing includes JIT compilation or a first connection.</summary>
    public async Task WarmUpAsync(int rows, CancellationToken cancellationToken = default)
    {
        await CopyRowsPerSecondAsync(rows, cancellationToken);
        await InsertWithLiteralsRowsPerSecondAsync(rows, rows, cancellationToken);
        await InsertWithParametersRowsPerSecondAsync(rows, rows, cancellationToken);
    }

    public async Task<double> CopyRowsPerSecondAsync(int rows, CancellationToken cancellationToken = default)
    {
        await using var connection = await PrepareAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        await using (var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken))
        {
            for (var id = 0; id < rows; id++)
            {
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync((long)id, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(PathOf(id), NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(_pool[id % PoolSize], cancellationToken);
            }

            await writer.CompleteAsync(cancellationToken);
        }

        return await RowsPerSecondAsync(connection, rows, clock, cancellationToken);
    }

    /// <summary>The seed's multi-row INSERT, vectors bound as (binary) parameters, one autocommitted statement per batch.</summary>
    public async Task<double> InsertWithParametersRowsPerSecondAsync(int rows, int rowsPerStatement, CancellationToken cancellationToken = default)
    {
        await using var connection = await PrepareAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        for (var first = 0; first < rows; first += rowsPerStatement)
        {
            var count = Math.Min(rowsPerStatement, rows - first);
            var sql = new StringBuilder("INSERT INTO public.bench_vectors (id, path, embedding) VALUES ");
            await using var insert = new NpgsqlCommand { Connection = connection };
            for (var i = 0; i < count; i++)
            {
                var id = first + i;
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"(${3 * i + 1},${3 * i + 2},${3 * i + 3})");
                insert.Parameters.Add(new NpgsqlParameter { Value = (long)id });
                insert.Parameters.Add(new NpgsqlParameter { Value = PathOf(id) });
                insert.Parameters.Add(new NpgsqlParameter { Value = _pool[id % PoolSize] });
            }

            insert.CommandText = sql.ToString();
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return await RowsPerSecondAsync(connection, rows, clock, cancellationToken);
    }

    /// <summary>The seed's multi-row INSERT with vectors spelled as text literals, as most articles show it.</summary>
    public async Task<double> InsertWithLiteralsRowsPerSecondAsync(int rows, int rowsPerStatement, CancellationToken cancellationToken = default)
    {
        await using var connection = await PrepareAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        for (var first = 0; first < rows; first += rowsPerStatement)
        {
            var count = Math.Min(rowsPerStatement, rows - first);
            var sql = new StringBuilder("INSERT INTO public.bench_vectors (id, path, embedding) VALUES ");
            for (var i = 0; i < count; i++)
            {
                var id = first + i;
                sql.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"({id},'{PathOf(id)}','{_literals[id % PoolSize]}')");
            }

            await using var insert = new NpgsqlCommand(sql.ToString(), connection);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return await RowsPerSecondAsync(connection, rows, clock, cancellationToken);
    }

    private static string PathOf(long id) => $"/bench/photos/{id:D7}.jpg";

    private async Task<NpgsqlConnection> PrepareAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var create = new NpgsqlCommand(CreateTableSql, connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private static async Task<double> RowsPerSecondAsync(NpgsqlConnection connection, int rows, Stopwatch clock, CancellationToken cancellationToken)
    {
        clock.Stop();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM public.bench_vectors", connection);
        var written = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        if (written != rows)
        {
            throw new InvalidOperationException($"benchmark wrote {written} rows, expected {rows}");
        }

        return rows / clock.Elapsed.TotalSeconds;
    }
}
