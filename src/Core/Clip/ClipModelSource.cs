namespace DbFirst.Clip;

/// <summary>Where a CLIP model folder was chosen from, in order of precedence.</summary>
internal enum ClipModelSource
{
    /// <summary>The <c>--model</c> option.</summary>
    CommandLine,

    /// <summary>Configuration key <c>Clip:ModelPath</c> (environment <c>Clip__ModelPath</c>).</summary>
    Configuration,

    /// <summary><c>models/ViT-B-32__openai</c> in the repository checkout, as fetched by scripts/fetch-model.sh.</summary>
    Repository,

    /// <summary>The offline model (<c>models/tiny-clip</c>) copied beside the runner: not semantic.</summary>
    OfflineModel,
}
