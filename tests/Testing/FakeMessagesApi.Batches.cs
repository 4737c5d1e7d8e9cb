using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DbFirst.Testing;

/// <summary>
/// The Message Batches endpoints: <c>POST /v1/messages/batches</c> checks every entry like a synchronous request and
/// decides its answer with <see cref="Behavior"/> at once; <c>GET …/{id}</c> reports <c>processing_status</c> as
/// <see cref="BatchesEnded"/> says; <c>GET …/{id}/results</c> answers JSONL. A 200 reply becomes a succeeded result
/// (a <see cref="FakeReply.RawBody"/> becomes a message with no text), 410 an expired one, any other status an errored one
/// whose message is <see cref="FakeReply.Text"/> when set.
/// </summary>
internal sealed partial class FakeMessagesApi
{
    private readonly Dictionary<string, FakeBatch> _batches = [];
    private readonly List<(string CustomId, FakeRequest Request)> _batchRequests = [];

    /// <summary>Whether batches report <c>ended</c> (results available) or <c>in_progress</c>.</summary>
    public bool BatchesEnded { get; set; } = true;

    /// <summary>The entries of every batch created, in order, with their <c>custom_id</c>.</summary>
    public IReadOnlyList<(string CustomId, FakeRequest Request)> BatchRequests
    {
        get
        {
            lock (_gate)
            {
                return [.. _batchRequests];
            }
        }
    }

    /// <summary>How many batches were created.</summary>
    public int BatchCount
    {
        get
        {
            lock (_gate)
            {
                return _batches.Count;
            }
        }
    }

    private async Task CreateBatchAsync(HttpContext context)
    {
        var arrived = DateTimeOffset.UtcNow;
        JsonObject? root = null;
        try
        {
            root = (await JsonNode.ParseAsync(context.Request.Body))?.AsObject();
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            Problem($"unreadable batch body: {exception.Message}");
        }

        if (!await AuthorizedAsync(context))
        {
            return;
        }

        var entries = new List<FakeBatchEntry>();
        foreach (var item in root?["requests"]?.AsArray() ?? [])
        {
            var customId = item?["custom_id"]?.GetValue<string>() ?? "";
            var request = ReadParams(context, item?["params"]?.AsObject(), arrived);
            int number;
            lock (_gate)
            {
                _batchRequests.Add((customId, request));
                number = ++_calls;
            }

            entries.Add(new FakeBatchEntry(customId, request, Behavior(number, request), number));
        }

        if (entries.Count == 0 || entries.Select(e => e.CustomId).Distinct().Count() != entries.Count)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", "requests must be non-empty with unique custom_id", null);
            return;
        }

        FakeBatch batch;
        lock (_gate)
        {
            batch = new FakeBatch($"msgbatch_fake_{_batches.Count + 1}", arrived, entries);
            _batches.Add(batch.Id, batch);
        }

        await WriteJsonAsync(context, BatchJson(context, batch));
    }

    private async Task RetrieveBatchAsync(HttpContext context, string id)
    {
        if (await AuthorizedAsync(context) && await FindAsync(context, id) is { } batch)
        {
            await WriteJsonAsync(context, BatchJson(context, batch));
        }
    }

    private async Task BatchResultsAsync(HttpContext context, string id)
    {
        if (!await AuthorizedAsync(context) || await FindAsync(context, id) is not { } batch)
        {
            return;
        }

        if (!BatchesEnded)
        {
            await WriteErrorAsync(context, 400, "invalid_request_error", $"batch {id} is still in progress", null);
            return;
        }

        var lines = new StringBuilder();
        foreach (var entry in batch.Entries)
        {
            lines.Append(new JsonObject { ["custom_id"] = entry.CustomId, ["result"] = ResultJson(entry) }.ToJsonString()).Append('\n');
        }

        context.Response.ContentType = "application/binary";
        await context.Response.WriteAsync(lines.ToString());
    }

    private static JsonObject ResultJson(FakeBatchEntry entry)
    {
        var reply = entry.Reply;
        if (reply.Status == HttpStatusCode.OK)
        {
            var text = reply.RawBody is null ? reply.Text ?? "" : null;
            return new JsonObject
            {
                ["type"] = "succeeded",
                ["message"] = new JsonObject
                {
                    ["id"] = $"msg_fake_{entry.Number}",
                    ["type"] = "message",
                    ["role"] = "assistant",
                    ["model"] = entry.Request.Model,
                    ["content"] = text is null ? new JsonArray() : new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text }),
                    ["stop_reason"] = "end_turn",
                    ["stop_sequence"] = null,
                    ["usage"] = new JsonObject
                    {
                        ["input_tokens"] = 100 + 1000 * entry.Request.Images.Count + entry.Request.Texts.Sum(t => t.Length) / 4,
                        ["output_tokens"] = Math.Max(1, (text ?? "").Length / 4),
                    },
                },
            };
        }

        if (reply.Status == HttpStatusCode.Gone)
        {
            return new JsonObject { ["type"] = "expired" };
        }

        return new JsonObject
        {
            ["type"] = "errored",
            ["error"] = new JsonObject
            {
                ["type"] = "error",
                ["error"] = new JsonObject { ["type"] = "invalid_request_error", ["message"] = reply.Text ?? $"fake {(int)reply.Status}" },
            },
        };
    }

    private JsonObject BatchJson(HttpContext context, FakeBatch batch)
    {
        var ended = BatchesEnded;
        int Count(Func<FakeBatchEntry, bool> match) => ended ? batch.Entries.Count(match) : 0;
        string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["id"] = batch.Id,
            ["type"] = "message_batch",
            ["processing_status"] = ended ? "ended" : "in_progress",
            ["request_counts"] = new JsonObject
            {
                ["processing"] = ended ? 0 : batch.Entries.Count,
                ["succeeded"] = Count(e => e.Reply.Status == HttpStatusCode.OK),
                ["errored"] = Count(e => e.Reply.Status is not HttpStatusCode.OK and not HttpStatusCode.Gone),
                ["canceled"] = 0,
                ["expired"] = Count(e => e.Reply.Status == HttpStatusCode.Gone),
            },
            ["created_at"] = Time(batch.CreatedAt),
            ["expires_at"] = Time(batch.CreatedAt.AddDays(1)),
            ["ended_at"] = ended ? Time(DateTimeOffset.UtcNow) : null,
            ["archived_at"] = null,
            ["cancel_initiated_at"] = null,
            ["results_url"] = ended ? $"{context.Request.Scheme}://{context.Request.Host}/v1/messages/batches/{batch.Id}/results" : null,
        };
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        if (context.Request.Headers.TryGetValue("x-api-key", out var key) && key.ToString() == ExpectedApiKey)
        {
            return true;
        }

        await WriteErrorAsync(context, 401, "authentication_error", "invalid x-api-key", null);
        return false;
    }

    private async Task<FakeBatch?> FindAsync(HttpContext context, string id)
    {
        lock (_gate)
        {
            if (_batches.TryGetValue(id, out var batch))
            {
                return batch;
            }
        }

        await WriteErrorAsync(context, 404, "not_found_error", $"no batch {id}", null);
        return null;
    }

    private static async Task WriteJsonAsync(HttpContext context, JsonObject body)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private sealed record FakeBatchEntry(string CustomId, FakeRequest Request, FakeReply Reply, int Number);

    private sealed record FakeBatch(string Id, DateTimeOffset CreatedAt, IReadOnlyList<FakeBatchEntry> Entries);
}
