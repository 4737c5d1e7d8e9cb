using DbFirst.Runner.Gallery;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The staged model's backfill on the Hangfire dashboard's home page: model, embedded / total, percent and time left,
/// from <c>serve</c>'s status cache (<see cref="CachedGalleryStatus"/>, at most one count per 15 s however often the
/// dashboard polls). Hangfire renders the metric's value and title HTML-encoded.
/// </summary>
internal static class BackfillDashboardMetric
{
    /// <summary>The metric; it reads the services of the request that renders it, so it holds no state of its own.</summary>
    public static readonly DashboardMetric Metric = new("dbfirst:backfill", "Model backfill", Render);

    // Hangfire keeps home-page metrics in a process-wide list; tests start several hosts in one process, so add it once.
    private static readonly Lock s_registration = new();

    /// <summary>Adds the metric to the dashboard's home page, once per process.</summary>
    public static void Register()
    {
        lock (s_registration)
        {
            if (!DashboardMetrics.GetMetrics().Any(metric => metric.Name == Metric.Name))
            {
                GlobalConfiguration.Configuration.UseDashboardMetric(Metric);
            }
        }
    }

    private static Metric Render(RazorPage page)
    {
        var http = page.Context.GetHttpContext();
        var status = http.RequestServices.GetService<CachedGalleryStatus>();
        if (status is null)
        {
            return new Metric("n/a");
        }

        // Hangfire renders pages synchronously; the read is bounded by the connection's command timeout.
        var progress = status.ReadBackfillAsync(http.RequestAborted).GetAwaiter().GetResult();
        if (progress is null)
        {
            return new Metric("no model staged") { Style = MetricStyle.Default };
        }

        return new Metric($"{progress.Model}: {progress.Counts}")
        {
            Style = progress.Complete ? MetricStyle.Success : MetricStyle.Info,
            Highlighted = progress.Complete,
            Title = progress.Pace.Length > 0 ? progress.Pace : "rate and time left appear after the next reading",
        };
    }
}
