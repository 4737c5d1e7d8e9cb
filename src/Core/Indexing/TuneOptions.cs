namespace DbFirst.Indexing;

/// <summary>What <c>dbfirst index tune</c> aims for.</summary>
/// <param name="TargetRecall">Recall@k to reach, e.g. 0.95.</param>
/// <param name="Queries">Query vectors in the tuning set; as many again form the held-out set.</param>
/// <param name="K">Neighbours per query.</param>
/// <param name="Seed">Seed for sampling and perturbing the queries, so a run can be repeated.</param>
/// <param name="Store">Whether to store the chosen setting in <c>gallery.settings</c>.</param>
/// <param name="Model">The registered model whose index is tuned (e.g. the staged one before promote); null for the active model.</param>
public sealed record TuneOptions(double TargetRecall = 0.95, int Queries = 200, int K = 10, int Seed = 1, bool Store = true, string? Model = null);
