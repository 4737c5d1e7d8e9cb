using System.CommandLine;

namespace DbFirst.Runner;

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Connection { get; } = new("--connection")
    {
        Description = "PostgreSQL connection string (default: ConnectionStrings__Gallery, else the local cluster from scripts/db.sh)",
        Recursive = true,
    };

    public Option<string?> Model { get; } = new("--model")
    {
        Description = "CLIP model folder (default: Clip__ModelPath, else models/ViT-B-32__openai, else the offline model models/tiny-clip)",
        Recursive = true,
    };
}
