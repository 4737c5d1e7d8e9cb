using DbFirst.Clip;

namespace DbFirst.Tests.Clip;

public sealed class ClipModelLocatorTests
{
    [Fact]
    public void Resolve_CommandLineGiven_WinsOverConfiguration()
    {
        var location = ClipModelLocator.Resolve("/models/a", "/models/b", "/", "/app");

        Assert.Equal(("/models/a", ClipModelSource.CommandLine), (location.Directory, location.Source));
    }

    [Fact]
    public void Resolve_OnlyConfiguration_UsesIt()
    {
        var location = ClipModelLocator.Resolve(null, "/models/b", "/", "/app");

        Assert.Equal(ClipModelSource.Configuration, location.Source);
    }

    [Fact]
    public void Resolve_RepositoryHasFetchedModel_UsesIt()
    {
        var repo = Directory.CreateTempSubdirectory("dbfirst-repo-");
        try
        {
            File.WriteAllText(Path.Combine(repo.FullName, "DbFirst.sln"), "");
            Directory.CreateDirectory(Path.Combine(repo.FullName, "models", "ViT-B-32__openai"));
            var nested = Directory.CreateDirectory(Path.Combine(repo.FullName, "src", "Runner", "bin"));

            var location = ClipModelLocator.Resolve(null, null, nested.FullName, "/app");

            Assert.Equal(ClipModelSource.Repository, location.Source);
            Assert.False(location.IsFallback);
        }
        finally
        {
            repo.Delete(recursive: true);
        }
    }

    [Fact]
    public void Resolve_NothingConfigured_FallsBackToBundledTestModel()
    {
        var empty = Directory.CreateTempSubdirectory("dbfirst-none-");
        try
        {
            var location = ClipModelLocator.Resolve(null, "  ", empty.FullName, "/app");

            Assert.True(location.IsFallback);
            Assert.Equal(Path.Combine("/app", "models", "tiny-clip"), location.Directory);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }
}
