namespace DbFirst.Claude;

/// <summary>What <c>dbfirst describe --batch</c> submitted.</summary>
/// <param name="BatchIds">The Message Batches created (a large backlog is split to stay under the API's size limit).</param>
/// <param name="Submitted">Images sent for description.</param>
/// <param name="Skipped">Images already described by the model, or waiting in a batch not collected yet.</param>
/// <param name="Failed">Images that could not be read; their <c>describe_error</c> says why.</param>
/// <param name="NotFound">Requested ids that are not in the gallery.</param>
internal sealed record DescribeBatchSubmission(IReadOnlyList<string> BatchIds, int Submitted, int Skipped, int Failed, IReadOnlyList<long> NotFound);
