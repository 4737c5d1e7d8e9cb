using System.Diagnostics;
using DbFirst.Imaging;
using DbFirst.Testing;
using SkiaSharp;

namespace DbFirst.Bench;

/// <summary>
/// Measures preprocessing (one core and all cores) on generated 12 MP and 1–2 MP JPEGs and optional real photos,
/// then image and text encoder throughput at batch 1 and 16. Each case runs for about <see cref="CaseDuration"/>.
/// </summary>
internal sealed class ClipBenchmark
{
    private readonly ClipModel _model;

    public ClipBenchmark(ClipModel model, TimeSpan caseDuration)
    {
        _model = model;
        CaseDuration = caseDuration;
    }

    /// <summary>How long each case is timed.</summary>
    public TimeSpan CaseDuration { get; }

    /// <summary>
    /// Runs every case. Generated images go to <paramref name="workDirectory"/>; <paramref name="photos"/> (image
    /// files) adds a case on real photos.
    /// </summary>
    public ClipBenchmarkResult Run(string workDirectory, IReadOnlyList<string> photos, Action<string> progress, CancellationToken cancellationToken = default)
    {
        var started = DateTimeOffset.UtcNow;
        var cores = Environment.ProcessorCount;
        var rows = new List<ClipBenchmarkRow>();
        Directory.CreateDirectory(workDirectory);

        var inputs = new List<(string Label, string[] Files)>
        {
            ("12 MP JPEG 4000x3000", [WriteJpeg(workDirectory, 4000, 3000)]),
            ("2 MP JPEG 1632x1224", [WriteJpeg(workDirectory, 1632, 1224)]),
            ("1.2 MP JPEG 1280x960", [WriteJpeg(workDirectory, 1280, 960)]),
        };
        // A broken file in the folder would end the run on a worker thread; time only the photos that decode.
        var decodable = photos.Where(path => IsDecodable(path, progress)).ToArray();
        if (decodable.Length > 0)
        {
            inputs.Add(($"{decodable.Length} photo(s) given", decodable));
        }

        foreach (var (label, files) in inputs)
        {
            foreach (var threads in cores > 1 ? new[] { 1, cores } : [1])
            {
                cancellationToken.ThrowIfCancellationRequested();
                var row = Measure("preprocess", label, threads, 1, i => _model.Preprocessor.Preprocess(files[i % files.Length]));
                rows.Add(row);
                progress($"{row.Case,-14} {row.Input,-26} threads {row.Threads,2}: {row.PerSecond,8:F1}/s");
            }
        }

        var pixels = _model.Preprocessor.Preprocess(inputs[1].Files[0]);
        var queries = new[] { "a photo of a cat", "a red car parked by the sea at sunset", "two dogs", "mountains" };
        foreach (var batch in new[] { 1, 16 })
        {
            cancellationToken.ThrowIfCancellationRequested();
            var images = Enumerable.Repeat(pixels, batch).ToList();
            var image = Measure("image encoder", $"{_model.Name}", 1, batch, _ => _model.ImageEncoder.Encode(images));
            rows.Add(image);
            progress($"{image.Case,-14} batch {batch,2}: {image.PerSecond,8:F1} images/s");

            var texts = Enumerable.Range(0, batch).Select(i => queries[i % queries.Length]).ToList();
            var text = Measure("text encoder", $"{_model.Name}", 1, batch, _ => _model.TextEncoder.Encode(texts));
            rows.Add(text);
            progress($"{text.Case,-14} batch {batch,2}: {text.PerSecond,8:F1} texts/s");
        }

        return new ClipBenchmarkResult(_model.Name, _model.Dimension, IsTestModel: !_model.IsSemantic, cores,
            $"{Environment.OSVersion}, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}", started, rows);
    }

    /// <summary>
    /// Runs <paramref name="work"/> (one call = <paramref name="batch"/> items) on <paramref name="threads"/> threads
    /// until the case duration has passed, after one untimed warm-up call.
    /// </summary>
    private ClipBenchmarkRow Measure<T>(string name, string input, int threads, int batch, Func<int, T> work)
    {
        work(0);
        var calls = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            while (clock.Elapsed < CaseDuration)
            {
                var n = Interlocked.Increment(ref calls);
                work(n);
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());
        return new ClipBenchmarkRow(name, input, threads, batch, calls * batch, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A photo-like JPEG: smooth gradients, shapes and grain, so decoding costs what a real photo costs.</summary>
    private static string WriteJpeg(string directory, int width, int height)
    {
        var path = Path.Combine(directory, $"bench-{width}x{height}.jpg");
        if (File.Exists(path))
        {
            return path;
        }

        using var bitmap = SyntheticPhoto.Render(width, height);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        using var file = File.Create(path);
        data.SaveTo(file);
        return path;
    }

    private bool IsDecodable(string path, Action<string> progress)
    {
        try
        {
            _model.Preprocessor.Preprocess(path);
            return true;
        }
        catch (ImageDecodeException exception)
        {
            progress($"skipping {exception.Message}");
            return false;
        }
    }
}
