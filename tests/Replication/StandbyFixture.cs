using DbFirst.Indexing;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Replication;

/// <summary>
/// A migrated gallery on the primary, a text encoder for it, and one standby of the test cluster for all the
/// standby tests (a base backup takes seconds; one is enough).
/// </summary>
public sealed class StandbyFixture : IAsyncLifetime
{
    public const int Count = 300;

    private readonly FakeTextEmbedder _embedder = new();
    private TextEncoderHost? _host;

    public TestDatabase Primary { get; private set; } = null!;

    public long[] Ids { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (StandbyCluster.CannotRunReason is not null)
        {
            return;
        }

        Primary = await TestDatabase.CreateAsync();
        var vectors = SyntheticGallery.GaussianMixture(Count, 512, 8, seed: 11);
        // The text encoder must be the active model's: gallery.search compares only one model's vectors.
        await TestEmbeddings.RegisterActiveAsync(Primary, _embedder.Model, 512);
        await using (var dataSource = Primary.CreateDataSource())
        {
            Ids = await SyntheticGallery.LoadAsync(dataSource, vectors, 8);
        }

        // Bulk-loaded rows get their stored neighbours from the backfill, as a gallery's fill-neighbours job would.
        await Primary.ExecuteAsync("SELECT gallery.fill_neighbours(1000)");
        for (var i = 0; i < Count; i++)
        {
            _embedder.Teach($"image {i}", vectors[i]);
        }

        _host = await TextEncoderHost.StartAsync(_embedder, Primary.ConnectionString);
        await Primary.ExecuteAsync($"UPDATE gallery.settings SET value = '{_host.EmbedUrl}' WHERE key = 'embed_url'");
        await StandbyCluster.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (StandbyCluster.CannotRunReason is not null)
        {
            return;
        }

        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await StandbyCluster.DropAsync();
        await Primary.DisposeAsync();
    }
}
