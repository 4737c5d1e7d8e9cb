namespace DbFirst.Bench;

/// <summary>What one <c>bench worker-host</c> process encoded, printed as JSON when it stops.</summary>
/// <param name="EncodedRows">Rows its counting encoder encoded.</param>
/// <param name="EncodeCalls">Batches it encoded.</param>
internal sealed record WorkerHostReport(int EncodedRows, int EncodeCalls);
