using System.Diagnostics;

namespace DbFirst.Tests.Embedding;

/// <summary>The built <c>dbfirst</c> runner started as a child process, as an operator would run it.</summary>
internal sealed class DbFirstProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private DbFirstProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>The runner beside the test assembly (the test project references it, so it is built and copied there).</summary>
    public static string RunnerDll => Path.Combine(AppContext.BaseDirectory, "dbfirst.dll");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static DbFirstProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(RunnerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return new DbFirstProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start"));
    }

    /// <summary>SIGKILL: no handler runs, no transaction is committed or rolled back by the process.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async Task<(int ExitCode, string Out, string Error)> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return (_process.ExitCode, await _stdout, await _stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
