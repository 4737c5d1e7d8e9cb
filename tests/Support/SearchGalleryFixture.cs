using DbFirst.Indexing;
using Npgsql;

namespace DbFirst.Tests.Support;

/// <summary>
/// A migrated database holding 3,000 clustered synthetic embeddings (30 clusters, folder per cluster,
/// taken_at one minute apart) plus a few planted near-duplicates, for the search tests.
/// </summary>
public sealed class SearchGalleryFixture : IAsyncLifetime
{
    public const int Clusters = 30;
    public const int Count = 3000;

    private TestDatabase? _database;

    public TestDatabase Database => _database ?? throw new InvalidOperationException("fixture not initialised");

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    /// <summary>Every embedded row: id, path, taken_at, vector (planted duplicates included).</summary>
    public List<(long Id, string Path, DateTime TakenAt, float[] Vector)> Rows { get; } = [];

    /// <summary>Ids of the planted duplicate groups: (original, near copy, near copy) and (original, near copy).</summary>
    public List<long[]> PlantedDuplicates { get; } = [];

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        DataSource = _database.CreateDataSource();
        // The runner's search commands encode text with the active model: the offline model's name makes that the one they hold.
        await TestEmbeddings.RegisterActiveAsync(_database, "tiny-clip-test", 512);
        var vectors = SyntheticGallery.GaussianMixture(Count, 512, Clusters, seed: 42);
        var ids = await SyntheticGallery.LoadAsync(DataSource, vectors, Clusters);
        var first = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < Count; i++)
        {
            Rows.Add((ids[i], $"/synthetic/c{i % Clusters:D3}/{i:D7}.jpg", first.AddMinutes(i), vectors[i]));
        }

        var random = new Random(7);
        var copies = new List<float[]>();
        foreach (var (source, n) in new[] { (100, 2), (2500, 1) })
        {
            for (var c = 0; c < n; c++)
            {
                copies.Add(vectors[source].Select(x => x + (float)((random.NextDouble() - 0.5) * 0.002)).ToArray());
            }
        }

        var copyIds = await SyntheticGallery.LoadAsync(DataSource, copies, 1, root: "/dups");
        for (var i = 0; i < copies.Count; i++)
        {
            Rows.Add((copyIds[i], $"/dups/c000/{i:D7}.jpg", first.AddMinutes(i), copies[i]));
        }

        PlantedDuplicates.Add([ids[100], copyIds[0], copyIds[1]]);
        PlantedDuplicates.Add([ids[2500], copyIds[2]]);
    }

    /// <summary>The exact k nearest rows to <paramref name="query"/> among those passing <paramref name="filter"/>, by brute force in C#.</summary>
    public List<(long Id, double Distance)> BruteForce(float[] query, int k, Func<(long Id, string Path, DateTime TakenAt, float[] Vector), bool>? filter = null) =>
        Rows.Where(row => filter?.Invoke(row) ?? true)
            .Select(row => (row.Id, Distance: SyntheticGallery.CosineDistance(query, row.Vector)))
            .OrderBy(hit => hit.Distance).ThenBy(hit => hit.Id)
            .Take(k)
            .ToList();

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
