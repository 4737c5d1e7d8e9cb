using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DbFirst.Tests.Embedding;

namespace DbFirst.Tests.Support;

/// <summary>A <c>dbfirst serve</c> the tests start on loopback: a free address for it, and the wait until it is healthy.</summary>
internal static class LoopbackServe
{
    /// <summary>An address on 127.0.0.1 with a port nothing listens on now.</summary>
    public static Uri FreeAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
    }

    /// <summary>
    /// Waits until <paramref name="serve"/> answers <c>/health</c> with 200 and returns that answer; fails when the
    /// process exits first, and when the time runs out says what <c>/health</c> answered meanwhile.
    /// </summary>
    public static async Task<JsonElement> WaitHealthyAsync(DbFirstProcess serve, Uri address, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + timeout;
        var seen = new List<string>();
        while (DateTime.UtcNow < deadline)
        {
            if (serve.HasExited)
            {
                var (code, _, error) = await serve.WaitAsync(TimeSpan.FromSeconds(5));
                throw new InvalidOperationException($"dbfirst serve exited with {code}: {error}");
            }

            try
            {
                using var response = await client.GetAsync("/health");
                var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return body;
                }

                seen.Add(body.TryGetProperty("code", out var status) ? status.ToString() : $"HTTP {(int)response.StatusCode}");
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but slow to answer: a loaded machine (once over 5 s beside an index build), or two
                // servers installing Hangfire's schema in turn.
                seen.Add("(no answer within 10 s)");
            }
            catch (JsonException)
            {
                seen.Add("(not JSON)");
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"dbfirst serve did not become healthy within {timeout}; /health said: {string.Join(", ", seen.Distinct())}");
    }
}
