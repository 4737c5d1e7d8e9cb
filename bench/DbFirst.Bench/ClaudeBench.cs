using System.Diagnostics;
using Npgsql;
using SkiaSharp;

namespace DbFirst.Bench;

/// <summary>
/// Runs <c>describe --all</c> twice over generated images against <see cref="FakeMessagesApi"/> with a latency and a
/// per-minute limit, in a scratch database it creates on the configured server and drops afterwards.
/// </summary>
internal sealed class ClaudeBench
{
    private const string BenchKey = "bench-key-not-a-secret";

    public sealed record Settings(int Images, int ServerRequestsPerMinute, double ClientRequestsPerMinute, TimeSpan Latency, int Concurrency);

    public sealed record Result(
        Settings Settings,
        TimeSpan FirstRun,
        long FirstRunCalls,
        int Described,
        int Failed,
        int RateLimitedByServer,
        int MaxRequestsInAnyMinute,
        double AchievedRequestsPerMinute,
        long SecondRunCalls,
        TimeSpan SecondRun,
        int RequestProblems);

    public static async Task<Result> RunAsync(string serverConnectionString, Settings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("dbfirst-bench-claude-");
        try
        {
            await using var scratch = await ScratchDatabase.CreateAsync(serverConnectionString, "dbfirst_bench", cancellationToken: cancellationToken);
            await using var dataSource = GalleryDataSource.Create(scratch.ConnectionString);
            await SeedAsync(dataSource, folder.FullName, settings.Images, cancellationToken);

            await using var fake = await FakeMessagesApi.StartAsync(BenchKey, cancellationToken);
            fake.Latency = settings.Latency;
            fake.RequestsPerMinute = settings.ServerRequestsPerMinute;
            var options = new ClaudeOptions
            {
                ApiKey = BenchKey,
                BaseUrl = fake.BaseUrl,
                Concurrency = settings.Concurrency,
                RequestsPerMinute = settings.ClientRequestsPerMinute,
                RetryBaseDelay = TimeSpan.FromSeconds(1),
                Timeout = TimeSpan.FromSeconds(30),
            };

            await progress.WriteLineAsync($"bench claude: {settings.Images} images, fake API {fake.BaseUrl} with {settings.Latency.TotalMilliseconds:F0} ms latency and {settings.ServerRequestsPerMinute} requests/min; client paced at {settings.ClientRequestsPerMinute} requests/min, concurrency {settings.Concurrency}");
            using var claude = new ClaudeClient(options);
            var describer = new GalleryDescriber(dataSource, claude);
            var done = 0;
            var watch = Stopwatch.StartNew();
            var first = await describer.DescribeAsync(new DescribeRequest([], All: true), outcome =>
            {
                if (++done % 25 == 0)
                {
                    progress.WriteLine($"  {done}/{settings.Images} after {watch.Elapsed.TotalSeconds:F0} s");
                }
            }, cancellationToken);
            var firstElapsed = watch.Elapsed;
            var requests = fake.Requests;
            var span = requests.Count > 1 ? requests[^1].At - requests[0].At : TimeSpan.Zero;
            var achieved = span > TimeSpan.Zero ? (requests.Count - 1) / span.TotalMinutes : 0;
            var maxPerMinute = fake.MaxRequestsInAnyMinute();

            var callsBefore = fake.Requests.Count;
            watch.Restart();
            var second = await describer.DescribeAsync(new DescribeRequest([], All: true), null, cancellationToken);
            var secondElapsed = watch.Elapsed;

            return new Result(settings, firstElapsed, first.Calls, first.Described, first.Failed, fake.RateLimited, maxPerMinute, achieved,
                fake.Requests.Count - callsBefore, secondElapsed, fake.Problems.Count);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task SeedAsync(NpgsqlDataSource dataSource, string folder, int count, CancellationToken cancellationToken)
    {
        var paths = new string[count];
        for (var i = 0; i < count; i++)
        {
            paths[i] = Path.Combine(folder, $"bench-{i:D5}.jpg");
            using var bitmap = new SKBitmap(new SKImageInfo(320, 240, SKColorType.Rgba8888, SKAlphaType.Opaque));
            bitmap.Erase(new SKColor((byte)(i * 37), (byte)(i * 91), (byte)(i * 53)));
            using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 80);
            await File.WriteAllBytesAsync(paths[i], data.ToArray(), cancellationToken);
        }

        await using var command = dataSource.CreateCommand("INSERT INTO gallery.image_gallery (path) SELECT unnest(@paths)");
        command.Parameters.AddWithValue("paths", paths);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
