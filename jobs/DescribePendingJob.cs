using DbFirst.Claude;
using Hangfire;
using Npgsql;

namespace DbFirst.Jobs;

/// <summary>
/// Recurring job <c>describe-pending</c>: describes images that need a description (those marked by
/// <c>gallery.request_description</c> first), at most a capped number of images and tokens per run. Off by default
/// because every image costs money. Safe to run twice: a described image is not selected again.
/// </summary>
/// <remarks>
/// <c>Attempts = 0</c>: <see cref="ClaudeClient"/> already retries each image (up to <c>Claude:MaxAttempts</c> calls,
/// honouring retry-after) and the SDK's own retries are off. A Hangfire retry on top would multiply the calls a bad
/// image costs (3 SDK tries × 11 Hangfire runs = 33 with the defaults). Images that failed
/// <c>maxFailedAttempts</c> runs are skipped until someone calls <c>gallery.request_description</c> on them again.
/// The job's arguments are only the caps: the API key stays in configuration and never reaches Hangfire's storage.
/// </remarks>
internal sealed class DescribePendingJob
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ClaudeOptions _options;

    public DescribePendingJob(NpgsqlDataSource dataSource, ClaudeOptions options)
    {
        _dataSource = dataSource;
        _options = options;
    }

    /// <summary>Describes up to <paramref name="maxImages"/> images, starting no new one after <paramref name="maxTokens"/> tokens.</summary>
    /// <returns>A one-line summary Hangfire shows as the job's result.</returns>
    [AutomaticRetry(Attempts = 0)]
    [DisableConcurrentExecution(timeoutInSeconds: 60)]
    public async Task<string> RunAsync(int maxImages, long maxTokens, int maxFailedAttempts, CancellationToken cancellationToken)
    {
        using var claude = new ClaudeClient(_options);
        var describer = new GalleryDescriber(_dataSource, claude);
        var summary = await describer.DescribeAsync(
            new DescribeRequest([], All: true, MaxImages: maxImages, MaxTokens: maxTokens, MaxFailedAttempts: maxFailedAttempts),
            cancellationToken: cancellationToken);
        return $"described {summary.Described}, failed {summary.Failed}; {summary.Calls} calls, " +
               $"{summary.InputTokens} input + {summary.OutputTokens} output tokens" +
               (summary.StoppedBy is { } stopped ? $"; stopped early: {stopped}" : "");
    }
}
