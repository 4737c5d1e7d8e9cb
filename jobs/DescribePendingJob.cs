using DbFirst.Claude;
using Hangfire;
using Npgsql;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>describe-pending</c>: describes the images marked by <c>gallery.request_description</c> (oldest
/// request first), at most a capped number of images and tokens per run; it never takes on the unrequested backlog,
/// which <c>dbfirst describe --all</c> (or <c>--batch</c>) is for. Off by default because every image costs money.
/// Safe to run twice: describing an image clears its request, so it is not selected again.
/// </summary>
/// <remarks>
/// <c>Attempts = 0</c>: <see cref="ClaudeClient"/> already retries each image (up to <c>Claude:MaxAttempts</c> calls,
/// honouring retry-after) and the SDK's own retries are off. A Hangfire retry on top would multiply the calls a bad
/// image costs (3 SDK tries × 11 Hangfire runs = 33 with the defaults). Images that failed
/// <c>Jobs:describe-pending:MaxFailedAttempts</c> runs are skipped until someone calls <c>gallery.request_description</c> on them again.
/// The job's only argument is the cancellation token: the API key and the caps stay in configuration and never reach Hangfire's storage.
/// </remarks>
internal sealed class DescribePendingJob
{
    /// <summary>The job's id in the recurring job catalogue and under <c>Jobs:</c> in configuration.</summary>
    public const string Id = "describe-pending";

    private readonly NpgsqlDataSource _dataSource;
    private readonly ClaudeOptions _options;
    private readonly DescribePendingLimits _limits;

    public DescribePendingJob(NpgsqlDataSource dataSource, ClaudeOptions options, DescribePendingLimits limits)
    {
        _dataSource = dataSource;
        _options = options;
        _limits = limits;
    }

    /// <summary>Describes up to <see cref="DescribePendingLimits.MaxImages"/> images, starting no new one after <see cref="DescribePendingLimits.MaxTokens"/> tokens.</summary>
    /// <returns>A one-line summary Hangfire shows as the job's result.</returns>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<string> RunAsync(CancellationToken cancellationToken)
    {
        using var claude = new ClaudeClient(_options);
        var describer = new GalleryDescriber(_dataSource, claude);
        var summary = await describer.DescribeAsync(
            new DescribeRequest([], All: false, MaxImages: _limits.MaxImages, MaxTokens: _limits.MaxTokens, MaxFailedAttempts: _limits.MaxFailedAttempts),
            cancellationToken: cancellationToken);
        return $"described {summary.Described}, failed {summary.Failed}, dropped {summary.Dropped} (image changed); {summary.Calls} calls, " +
               $"{summary.InputTokens} input + {summary.OutputTokens} output tokens" +
               (summary.StoppedBy is { } stopped ? $"; stopped early: {stopped}" : "");
    }
}
