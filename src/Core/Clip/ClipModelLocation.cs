namespace DbFirst.Clip;

/// <summary>A chosen CLIP model folder and why it was chosen.</summary>
internal sealed record ClipModelLocation(string Directory, ClipModelSource Source)
{
    /// <summary>True when nothing better was found and the non-semantic offline model is used.</summary>
    public bool IsFallback => Source == ClipModelSource.OfflineModel;

    /// <summary>The warning to show when <see cref="IsFallback"/>.</summary>
    public const string FallbackWarning =
        "warning: no CLIP model configured (--model, Clip__ModelPath or models/ViT-B-32__openai); using the bundled tiny test model, whose results are NOT semantic. Run scripts/fetch-model.sh.";
}
