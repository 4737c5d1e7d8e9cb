using FluentMigrator;

namespace DbFirst.Migrations;

/// <summary>
/// Each model's tuned <c>hnsw.ef_search</c> / <c>ivfflat.probes</c> travels with it: the plain settings are the active
/// model's, another model's wait under <c>key@name</c> (<c>dbfirst index tune --model NAME</c>), and a trigger on
/// <c>gallery.clip_models</c> swaps them when promote or rollback changes the active model.
/// </summary>
[Migration(111, "Tuned search settings follow their model through promote and rollback")]
public sealed class MoveSearchTuningWithModel : Migration
{
    /// <inheritdoc />
    public override void Up() => Execute.EmbeddedScript("0111_tuning_follows_model.sql");

    /// <inheritdoc />
    /// <remarks>Settings kept under <c>key@name</c> stay in the table, unused, as they were written.</remarks>
    public override void Down() => Execute.Sql("""
        DROP TRIGGER clip_models_drop_search_tuning ON gallery.clip_models;
        DROP TRIGGER clip_models_move_search_tuning ON gallery.clip_models;
        DROP FUNCTION gallery.move_search_tuning();
        """);
}
