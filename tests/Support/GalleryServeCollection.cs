namespace DbFirst.Tests.Support;

/// <summary>The page tests and the browser tests share one running <c>dbfirst serve</c>.</summary>
[CollectionDefinition(Name)]
public sealed class GalleryServeCollection : ICollectionFixture<GalleryServeFixture>
{
    public const string Name = "gallery serve";
}
