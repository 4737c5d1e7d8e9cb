using System.Globalization;

namespace DbFirst.Configuration;

/// <summary>
/// The one way DbFirst reads configuration: each options record's <c>Read</c> asks this for its keys, and a value
/// that does not parse, or is out of range, stops the command (or the host, before it starts) with one line naming
/// the key, what it must be and what it got. An empty value means "not set": the default applies.
/// </summary>
/// <remarks>
/// The lookup is an <c>IConfiguration</c> indexer (keys such as <c>Claude:Model</c>, set as <c>Claude__Model</c>
/// in the environment), so Core needs no configuration package. Every key read is recorded in
/// <see cref="KeysRead"/>, which is how the README's configuration table is checked against the code.
/// </remarks>
internal sealed class SettingsReader
{
    private readonly Func<string, string?> _lookup;
    private readonly List<string> _keysRead = [];

    public SettingsReader(Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        _lookup = lookup;
    }

    /// <summary>Every key asked for so far, in order, once each.</summary>
    public IReadOnlyList<string> KeysRead => _keysRead;

    /// <summary>The value of <paramref name="key"/> as written (a password may end in a space); <see langword="null"/> when unset or blank.</summary>
    public string? Text(string key)
    {
        if (!_keysRead.Contains(key, StringComparer.Ordinal))
        {
            _keysRead.Add(key);
        }

        return _lookup(key) is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;
    }

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public int Int(string key, int fallback, int min = 1, int max = int.MaxValue) =>
        (int)Long(key, fallback, min, max);

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public long Long(string key, long fallback, long min = 1, long max = long.MaxValue)
    {
        if (Text(key)?.Trim() is not { } text)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Invalid(key, WholeNumber(min, max), text);
    }

    /// <summary>A number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public double Double(string key, double fallback, double min, double max)
    {
        if (Text(key)?.Trim() is not { } text)
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Invalid(key, string.Create(CultureInfo.InvariantCulture, $"a number from {min} to {max}"), text);
    }

    /// <summary><c>true</c> or <c>false</c> (any case): a misspelt switch must not silently turn something off.</summary>
    public bool Bool(string key, bool fallback)
    {
        if (Text(key)?.Trim() is not { } text)
        {
            return fallback;
        }

        return bool.TryParse(text, out var value) ? value : throw Invalid(key, "true or false", text);
    }

    /// <summary>A time span such as <c>00:01:30</c>: never negative, and above zero when <paramref name="positive"/>.</summary>
    public TimeSpan Time(string key, TimeSpan fallback, bool positive = false)
    {
        if (Text(key)?.Trim() is not { } text)
        {
            return fallback;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value) && (positive ? value > TimeSpan.Zero : value >= TimeSpan.Zero)
            ? value
            : throw Invalid(key, positive ? "a positive time span such as 00:01:00" : "a time span such as 00:01:00 (00:00:00 or more)", text);
    }

    /// <summary>The one-line error for a value of <paramref name="key"/> that is not <paramref name="expected"/>.</summary>
    public static GalleryException Invalid(string key, string expected, string got) =>
        new($"configuration: {key} must be {expected} (got \"{got}\")");

    /// <summary>The one-line error for settings that are each valid but do not fit together.</summary>
    public static GalleryException Conflict(string problem) => new($"configuration: {problem}");

    private static string WholeNumber(long min, long max) => (min, max) switch
    {
        (1, long.MaxValue or int.MaxValue) => "a positive whole number",
        (0, long.MaxValue or int.MaxValue) => "a whole number, 0 or more",
        _ => string.Create(CultureInfo.InvariantCulture, $"a whole number from {min} to {max}"),
    };
}
