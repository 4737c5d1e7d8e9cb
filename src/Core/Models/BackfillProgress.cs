using System.Globalization;

namespace DbFirst.Models;

/// <summary>
/// The staged model's backfill as the dashboard and the operator page show it: exact counts from
/// <c>gallery.model_coverage()</c>, and a rate and time left measured between two readings (null until there are two
/// that differ, or while nothing moves).
/// </summary>
internal sealed record BackfillProgress(string Model, long Embedded, long Total, double? ImagesPerSecond, TimeSpan? Eta)
{
    /// <summary>Embedded ÷ total in percent; an empty gallery counts as done.</summary>
    public double Percent => Total == 0 ? 100 : 100.0 * Embedded / Total;

    /// <summary>Whether every image is embedded by the staged model, so that it can be promoted.</summary>
    public bool Complete => Embedded >= Total;

    /// <summary>Counts and percent, e.g. <c>1,234 / 5,000 (24.7%)</c>.</summary>
    public string Counts => string.Create(CultureInfo.InvariantCulture, $"{Embedded:N0} / {Total:N0} ({Math.Floor(Percent * 10) / 10:F1}%)");

    /// <summary>Rate and time left, e.g. <c>12.3 images/s, about 5 min left</c>; "complete" when done; empty when not known yet.</summary>
    public string Pace =>
        Complete ? "complete: ready to promote"
        : ImagesPerSecond is { } rate && Eta is { } eta ? string.Create(CultureInfo.InvariantCulture, $"{rate:F1} images/s, about {Describe(eta)} left")
        : "";

    /// <summary>One line: the model, its counts and the pace when known.</summary>
    public override string ToString() => $"{Model}: {Counts}" + (Pace.Length > 0 ? $", {Pace}" : "");

    private static string Describe(TimeSpan eta) =>
        eta < TimeSpan.FromMinutes(1) ? "1 min"
        : eta < TimeSpan.FromHours(2) ? string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(eta.TotalMinutes):F0} min")
        : string.Create(CultureInfo.InvariantCulture, $"{eta.TotalHours:F1} h");
}
