namespace DbFirst.Models;

/// <summary>
/// Turns successive coverage readings into the staged model's <see cref="BackfillProgress"/>: the rate is the
/// embedded count's growth over the readings of the last <see cref="Window"/>, so it costs nothing beyond the counts
/// already read, and follows a backfill that speeds up, slows down or stops. One per process (serve's status cache).
/// </summary>
internal sealed class BackfillProgressTracker
{
    /// <summary>How far back the rate looks: long enough to smooth batches, short enough to notice a stalled backfill.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private readonly Lock _gate = new();
    private readonly Queue<(DateTimeOffset At, long Embedded)> _readings = new();
    private int? _modelId;

    /// <summary>Records a reading taken at <paramref name="at"/>; returns the staged model's progress, or null when none is staged.</summary>
    public BackfillProgress? Observe(IReadOnlyList<ModelCoverage>? coverage, DateTimeOffset at)
    {
        var staged = coverage?.FirstOrDefault(model => model.State == "staged");
        lock (_gate)
        {
            if (staged is null)
            {
                _modelId = null;
                _readings.Clear();
                return null;
            }

            // Another staged model, or the same one with fewer rows (images deleted, re-embeds requested): start over.
            if (_modelId != staged.Id || (_readings.Count > 0 && staged.Embedded < _readings.Last().Embedded))
            {
                _modelId = staged.Id;
                _readings.Clear();
            }

            _readings.Enqueue((at, staged.Embedded));
            while (_readings.Count > 2 && at - _readings.Peek().At > Window)
            {
                _readings.Dequeue();
            }

            var (firstAt, firstEmbedded) = _readings.Peek();
            var seconds = (at - firstAt).TotalSeconds;
            var gained = staged.Embedded - firstEmbedded;
            double? rate = seconds >= 1 && gained > 0 ? gained / seconds : null;
            TimeSpan? eta = rate is { } perSecond ? TimeSpan.FromSeconds(Math.Max(0, staged.Total - staged.Embedded) / perSecond) : null;
            return new BackfillProgress(staged.Name, staged.Embedded, staged.Total, rate, eta);
        }
    }
}
