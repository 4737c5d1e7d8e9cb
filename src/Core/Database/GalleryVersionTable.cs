using FluentMigrator.Runner.VersionTableInfo;

namespace DbFirst.Database;

/// <summary>Keeps FluentMigrator's version table inside schema <c>gallery</c>, next to what it versions.</summary>
internal sealed class GalleryVersionTable : IVersionTableMetaData
{
    public const string Schema = "gallery";
    public const string Table = "schema_version";

    public object? ApplicationContext { get; set; }
    public bool OwnsSchema => true;
    public string SchemaName => Schema;
    public string TableName => Table;
    public string ColumnName => "version";
    public string DescriptionColumnName => "description";
    public string UniqueIndexName => "schema_version_version_key";
    public string AppliedOnColumnName => "applied_on";
    public bool CreateWithPrimaryKey => false;
}
