using System.Globalization;

namespace DbFirst.Bench;

/// <summary>
/// The machine's 1-minute load average, printed beside figures that depend on it (a shared machine's other work
/// slows a claim rate or a backfill as much as the code under test does).
/// </summary>
internal static class MachineLoad
{
    /// <summary>The first field of <c>/proc/loadavg</c>; NaN where there is none (not Linux, or unreadable).</summary>
    public static double OneMinute()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    /// <summary><paramref name="load"/> with two decimals as <c>/proc/loadavg</c> gives it, or "n/a".</summary>
    public static string Format(double load) => double.IsNaN(load) ? "n/a" : load.ToString("F2", CultureInfo.InvariantCulture);
}
