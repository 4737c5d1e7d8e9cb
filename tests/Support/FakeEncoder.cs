using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DbFirst.Tests.Support;

/// <summary>
/// A hostile local process squatting an encoder port: it records every request body and answers each with the same
/// canned JSON (a planted vector, a made-up proof), unsigned.
/// </summary>
public sealed class FakeEncoder : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly string _answer;

    private FakeEncoder(TcpListener listener, string answer)
    {
        _listener = listener;
        _answer = answer;
        _loop = Task.Run(AcceptAsync);
    }

    public string EmbedUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/embed/text";

    /// <summary>Every request it received, headers and body, as text.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    public static Task<FakeEncoder> StartAsync(string answer)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return Task.FromResult(new FakeEncoder(listener, answer));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var stream = client.GetStream();
            var buffer = new byte[65536];
            var received = new StringBuilder();
            // Read until the declared body has arrived (requests here are small and come in one piece or two).
            while (true)
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                received.Append(Encoding.UTF8.GetString(buffer, 0, read));
                var text = received.ToString();
                var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                var length = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) is { } line
                    ? int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)
                    : 0;
                if (headerEnd >= 0 && Encoding.UTF8.GetByteCount(text[(headerEnd + 4)..]) >= length)
                {
                    break;
                }
            }

            Bodies.Enqueue(received.ToString());
            var body = Encoding.UTF8.GetBytes(_answer);
            var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-DbFirst-Signature: {new string('0', 64)}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
            await stream.WriteAsync(head, _stop.Token);
            await stream.WriteAsync(body, _stop.Token);
        }
    }
}
