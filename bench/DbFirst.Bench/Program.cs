using DbFirst.Bench;
using DbFirst.Runner;

return await BenchCli.InvokeAsync(args, RunnerConsole.FromSystemConsole());
