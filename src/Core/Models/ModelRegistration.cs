namespace DbFirst.Models;

/// <summary>
/// What <c>dbfirst model stage DIR</c> registers: the name the embedder reports (config.json <c>model_name</c>, else
/// the folder name), its embedding dimension, the folder as an absolute path, and the folder's layout.
/// </summary>
internal sealed record ModelRegistration(string Name, int Dimension, string Source, string Layout);
