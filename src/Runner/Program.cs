using DbFirst.Runner;

return await DbFirstCli.InvokeAsync(args, RunnerConsole.FromSystemConsole());
