using System.Collections.Concurrent;
using DbFirst.Clip;
using DbFirst.Configuration;
using DbFirst.Runner;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Embedding;
using DbFirst.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class HangfirePollingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dbfirst-polling-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Read_WithoutKeys_IsTheMeasuredDefault_LongPollingWithAOneMinuteFallbackPoll()
    {
        var polling = HangfirePolling.Read(new SettingsReader(_ => null));

        Assert.Equal(new HangfirePolling(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), LongPolling: true), polling);
    }

    [Fact]
    public void Read_Keys_SetEachInterval_AndTheStorageOptionsCarryThem()
    {
        var settings = Settings(("Hangfire:QueuePollInterval", "00:00:05"), ("Hangfire:SchedulePollingInterval", "00:00:45"), ("Hangfire:LongPolling", "false"));

        var polling = HangfirePolling.Read(settings);
        var storage = HangfireStorageFactory.CreateOptions(polling);

        Assert.Equal(new HangfirePolling(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(45), LongPolling: false), polling);
        Assert.Equal(TimeSpan.FromSeconds(5), storage.QueuePollInterval);
        Assert.False(storage.EnableLongPolling);
        Assert.True(HangfireStorageFactory.CreateOptions().EnableLongPolling);
    }

    [Theory]
    [InlineData("Hangfire:QueuePollInterval", "00:00:00.01")]
    [InlineData("Hangfire:QueuePollInterval", "02:00:00")]
    [InlineData("Hangfire:SchedulePollingInterval", "00:00:00")]
    [InlineData("Hangfire:SchedulePollingInterval", "soon")]
    public void Read_IntervalOutOfRange_StopsWithOneLineNamingTheKey(string key, string value)
    {
        var error = Assert.Throws<GalleryException>(() => HangfirePolling.Read(Settings((key, value))));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task Worker_IdleWithAnHourLongQueuePoll_RunsAJobEnqueuedByAnotherProcessAtOnce_ThroughListenNotify()
    {
        await using var database = await TestDatabase.CreateAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Gallery"] = database.ConnectionString,
            ["Hangfire:QueuePollInterval"] = "01:00:00",
            ["Hangfire:SchedulePollingInterval"] = "00:00:07",
        }).Build();
        var context = new RunnerContext(configuration, modelOption: null, new RunnerConsole(TextWriter.Null, TextWriter.Null, IsInteractive: false));
        var encoder = new CountingEmbedder();
        using var model = ClipModel.Load(TestPaths.TinyClipModel);
        using var host = GalleryHost.BuildWorker(context, GalleryHostSettings.Read(context.Settings), model, encoder);
        var log = new CapturingLoggerProvider();
        host.Services.GetRequiredService<ILoggerFactory>().AddProvider(log);
        await host.StartAsync();
        try
        {
            // Both of the server's workers listen, so they have looked at the empty queue and now wait for an hour or a NOTIFY.
            await WaitUntilAsync(
                async () => await database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN new_job'") == 2,
                "the server's two workers never listened");
            await Task.Delay(TimeSpan.FromSeconds(2));
            await GalleryRows.InsertAsync(database, GalleryRows.WriteFiles(_directory, 40));

            await EmbeddingJobQueue.EnqueueAsync(database.ConnectionString);

            await WaitUntilAsync(async () => await TestEmbeddings.CountAsync(database) == 40, "the enqueued job did not run within a minute of an hour-long poll");
            Assert.Equal(40, encoder.EncodedRows);
            Assert.Contains(log.Messages, m => m.Contains("Queue poll interval: 01:00:00.", StringComparison.Ordinal));
            Assert.Contains(log.Messages, m => m.Contains("Schedule polling interval: 00:00:07", StringComparison.Ordinal));
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
            // Hangfire keeps the started host's logger factory in a static; once the host is disposed, any later
            // test in this process that makes Hangfire ask for a logger (an enqueue, an attribute) would throw.
            Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        }
    }

    private static SettingsReader Settings(params (string Key, string Value)[] values)
    {
        var map = values.ToDictionary(v => v.Key, v => v.Value);
        return new SettingsReader(key => map.GetValueOrDefault(key));
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(100);
        }
    }

    // The host's log lines (Hangfire writes its server and storage options there at start).
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IEnumerable<string> Messages => _messages;

        public ILogger CreateLogger(string categoryName) => new Logger(_messages);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue(formatter(state, exception));
        }
    }
}
