using System.Diagnostics;
using System.Text.Json;

namespace DbFirst.Bench;

/// <summary>A <c>dbfirst-bench worker-host</c> child process: started, waited on until it serves, stopped through its standard input.</summary>
internal sealed class WorkerHostProcess : IDisposable
{
    // Enough of a failing child's stderr to say why, without keeping a chatty one's whole log.
    private const int KeptErrorLines = 20;

    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _errorLines = new();
    private readonly Lock _gate = new();
    private readonly Task<string> _stdout;

    private WorkerHostProcess(Process process)
    {
        _process = process;
        process.ErrorDataReceived += (_, line) => OnErrorLine(line.Data);
        process.BeginErrorReadLine();
        _stdout = process.StandardOutput.ReadToEndAsync();
    }

    /// <summary>Starts the benchmark program's hidden <c>worker-host</c> command with <paramref name="environment"/> added to ours.</summary>
    public static WorkerHostProcess Start(IReadOnlyDictionary<string, string> environment, string modelDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dbfirst-bench.dll"));
        start.ArgumentList.Add(Commands.BenchWorkerHostCommand.Name);
        start.ArgumentList.Add("--model");
        start.ArgumentList.Add(modelDirectory);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new WorkerHostProcess(Process.Start(start) ?? throw new GalleryException("dotnet did not start a worker-host process"));
    }

    /// <summary>Waits until the child's Hangfire server runs; a child that exits or takes longer than <paramref name="timeout"/> fails with its last lines.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var exited = _process.WaitForExitAsync(cancellationToken);
        var finished = await Task.WhenAny(_ready.Task, exited, Task.Delay(timeout, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
        if (finished != _ready.Task)
        {
            throw new GalleryException($"a worker-host process {(finished == exited ? "exited" : "did not start in time")}: {LastErrors()}");
        }
    }

    /// <summary>Closes the child's standard input (it stops as <c>worker</c> does on SIGTERM) and reads what it encoded.</summary>
    public async Task<WorkerHostReport> StopAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        _process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GalleryException($"a worker-host process did not stop within {timeout.TotalSeconds:F0} s: {LastErrors()}");
        }

        // The host's console log shares stdout; the report is the last line that is a JSON object.
        var report = (await _stdout).Split('\n').Select(line => line.Trim()).LastOrDefault(line => line.StartsWith('{'));
        return _process.ExitCode == 0 && report is not null
            ? JsonSerializer.Deserialize<WorkerHostReport>(report, DbFirstJson.Options) ?? throw new GalleryException("a worker-host process printed an empty report")
            : throw new GalleryException($"a worker-host process failed (exit code {_process.ExitCode}): {LastErrors()}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private void OnErrorLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line == Commands.BenchWorkerHostCommand.ReadyLine)
        {
            _ready.TrySetResult();
        }

        lock (_gate)
        {
            _errorLines.Enqueue(line);
            while (_errorLines.Count > KeptErrorLines)
            {
                _errorLines.Dequeue();
            }
        }
    }

    private string LastErrors()
    {
        lock (_gate)
        {
            return _errorLines.Count == 0 ? "(nothing on stderr)" : string.Join(" | ", _errorLines);
        }
    }
}
