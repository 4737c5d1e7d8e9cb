using DbFirst.Database;
using DbFirst.Tests.Support;

namespace DbFirst.Tests.Database;

public sealed class GalleryMigratorTests
{
    [Fact]
    public async Task UpDownToZeroUp_OnFreshDatabase_LeavesTheExpectedSchema()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        // What the superuser step installed before any migration (pgvector in template1) must be there again after Down.
        var extensionsBefore = await ExtensionsAsync(database);

        // Every known migration, not a fixed list: each part of the project adds its own versions.
        var all = await AllVersionsAsync(migrator);
        var applied = await migrator.MigrateUpAsync();
        Assert.Equal(all, applied);
        await AssertSchemaIsCompleteAsync(database);

        var rolledBack = await migrator.MigrateDownAsync(0);
        Assert.Equal(all.Reverse(), rolledBack);
        Assert.Equal(extensionsBefore, await ExtensionsAsync(database));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_namespace WHERE nspname = 'gallery'"));

        Assert.Equal(all, await migrator.MigrateUpAsync());
        await AssertSchemaIsCompleteAsync(database);
    }

    [Fact]
    public async Task MigrateUp_WithTarget_StopsThere_AndListShowsPending()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);

        Assert.Equal([1L, 2L], await migrator.MigrateUpAsync(2));
        var states = await migrator.ListAsync();

        Assert.All(states.Where(s => s.Version <= 2), s => Assert.True(s.IsApplied));
        Assert.All(states.Where(s => s.Version > 2), s => Assert.False(s.IsApplied));
        Assert.All(states, s => Assert.False(string.IsNullOrWhiteSpace(s.Description)));
        Assert.Null(await database.ScalarAsync<string>("SELECT to_regclass('gallery.image_gallery_embedding_idx')::text"));
    }

    [Fact]
    public async Task UpgradeInANewSession_FromBeforeTheFunctionsThatSetPgvectorSettings_AppliesThemAndBackDown()
    {
        // Migrations 81 and 91 create functions with SET hnsw.iterative_scan; a session that has not loaded
        // pgvector's library may not name that setting as a non-superuser. Each MigrateUpAsync is a new session.
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(80);

        var applied = await new GalleryMigrator(database.ConnectionString).MigrateUpAsync(91);
        var configAfterUp = await database.ScalarAsync<string>(
            "SELECT array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'gallery.search_by_embedding(vector,integer,text,timestamptz,timestamptz)'::regprocedure");
        var rolledBack = await new GalleryMigrator(database.ConnectionString).MigrateDownAsync(80);

        Assert.Equal([81L, 82L, 90L, 91L], applied);
        Assert.Contains("hnsw.iterative_scan=relaxed_order", configAfterUp);
        Assert.Equal([91L, 90L, 82L, 81L], rolledBack);
        Assert.Equal(80L, await database.ScalarAsync<long>($"SELECT max(version) FROM {GalleryVersionTable.Schema}.{GalleryVersionTable.Table}"));
    }

    [Fact]
    public async Task IndexMigration_RerunAfterAFailedConcurrentBuild_RebuildsTheInvalidIndex()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(2);
        await database.ExecuteAsync("INSERT INTO gallery.image_gallery (path, embedding) SELECT '/x/' || i, array_fill(i::real, ARRAY[512])::vector FROM generate_series(1, 20) AS i");
        await InvalidIndex.CreateAsync(database,
            "CREATE INDEX CONCURRENTLY image_gallery_embedding_idx ON gallery.image_gallery USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)");
        var validBefore = await database.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = 'gallery.image_gallery_embedding_idx'::regclass");

        var applied = await migrator.MigrateUpAsync(3);

        Assert.False(validBefore);
        Assert.Equal([3L], applied);
        Assert.True(await database.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = 'gallery.image_gallery_embedding_idx'::regclass"));
    }

    [Fact]
    public async Task PreviewUp_WithAnInvalidIndexLeftBehind_DropsNothing()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var migrator = new GalleryMigrator(database.ConnectionString);
        await migrator.MigrateUpAsync(2);
        await database.ExecuteAsync("INSERT INTO gallery.image_gallery (path) VALUES ('/x/a.jpg')");
        await InvalidIndex.CreateAsync(database,
            "CREATE INDEX CONCURRENTLY image_gallery_embedding_idx ON gallery.image_gallery USING hnsw (embedding vector_cosine_ops)");

        await migrator.PreviewAsync(new StringWriter(), 3);

        Assert.False(await database.ScalarAsync<bool>("SELECT indisvalid FROM pg_index WHERE indexrelid = 'gallery.image_gallery_embedding_idx'::regclass"));
    }

    [Fact]
    public async Task Preview_PrintsSql_AndRunsNothing()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);
        var extensionsBefore = await ExtensionsAsync(database);
        var output = new StringWriter();

        await new GalleryMigrator(database.ConnectionString).PreviewAsync(output);

        var sql = output.ToString();
        Assert.Contains("CREATE EXTENSION IF NOT EXISTS vector", sql);
        Assert.Contains("USING hnsw", sql);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_namespace WHERE nspname = 'gallery'"));
        Assert.Equal(extensionsBefore, await ExtensionsAsync(database));
    }

    private static async Task<string?> ExtensionsAsync(TestDatabase database) =>
        await database.ScalarAsync<string>("SELECT string_agg(extname || ' ' || extversion, ', ' ORDER BY extname) FROM pg_extension");

    [Fact]
    public async Task TwoConcurrentMigrateUps_BothSucceed_AndApplyEachMigrationOnce()
    {
        await using var database = await TestDatabase.CreateAsync(migrate: false);

        var runs = await Task.WhenAll(
            Task.Run(() => new GalleryMigrator(database.ConnectionString).MigrateUpAsync()),
            Task.Run(() => new GalleryMigrator(database.ConnectionString).MigrateUpAsync()));

        var all = await AllVersionsAsync(new GalleryMigrator(database.ConnectionString));
        Assert.Equal(all, runs.SelectMany(applied => applied).Order());
        Assert.Equal((long)all.Length, await database.ScalarAsync<long>("SELECT count(*) FROM gallery.schema_version"));
        await AssertSchemaIsCompleteAsync(database);
    }

    private static async Task AssertSchemaIsCompleteAsync(TestDatabase database)
    {
        // Embeddings live in gallery.image_embeddings, one LIST partition per model (migration 100); the first model
        // registered gets its partition with migration 3's HNSW index and every image pending.
        Assert.Equal("vector", await database.ScalarAsync<string>(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'gallery.image_embeddings'::regclass AND attname = 'embedding'"));
        Assert.Equal("l", await database.ScalarAsync<string>("SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'gallery.image_embeddings'::regclass"));
        Assert.Null(await database.ScalarAsync<string>(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = 'gallery.image_gallery'::regclass AND attname IN ('embedding', 'embedding_model', 'embedded_at') AND NOT attisdropped LIMIT 1"));
        // Inside a transaction rolled back at the end: the database stays empty for the Down that follows.
        await using var connection = new Npgsql.NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var register = new Npgsql.NpgsqlCommand(
            "INSERT INTO gallery.image_gallery (path) VALUES ('/schema/a.jpg'); SELECT gallery.ensure_active_model('schema-check', 512)", connection, transaction))
        {
            await register.ExecuteNonQueryAsync();
        }

        await using (var check = new Npgsql.NpgsqlCommand(
            """
            SELECT indexdef, (SELECT count(*) FROM gallery.embedding_pending)
            FROM pg_indexes
            WHERE indexname = format('image_embeddings_m%s_embedding_idx', (SELECT id FROM gallery.clip_models WHERE name = 'schema-check'))
            """, connection, transaction))
        await using (var reader = await check.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync(), "the first model's partition has no managed index");
            var indexDefinition = reader.GetString(0);
            Assert.Contains("USING hnsw (((embedding)::vector(512)) vector_cosine_ops)", indexDefinition);
            Assert.Contains("m='16'", indexDefinition);
            Assert.Contains("ef_construction='64'", indexDefinition);
            Assert.Equal(1L, reader.GetInt64(1));
        }

        await transaction.RollbackAsync();
        Assert.Equal("gallery", await database.ScalarAsync<string>(
            "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'schema_version'"));
    }

    private static async Task<long[]> AllVersionsAsync(GalleryMigrator migrator) =>
        (await migrator.ListAsync()).Select(state => state.Version).Order().ToArray();
}
