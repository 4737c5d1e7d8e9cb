using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using DbFirst.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// The text encoder that <c>gallery.search</c> calls from inside PostgreSQL (<c>gallery_encoder.fetch</c>), loopback
/// callers only:
/// <list type="bullet">
/// <item><c>POST /embed/hello</c> <c>{"nonce"}</c> answers <c>{"proof"}</c>, proving this host holds the encoder key
/// before the database sends it any query text;</item>
/// <item><c>POST /embed/text</c> <c>{"text", "nonce"}</c> answers <c>{"model", "dim", "embedding"}</c>, signed in the
/// <c>X-DbFirst-Signature</c> header when a nonce is given.</item>
/// </list>
/// Bodies over <see cref="MaxBodyBytes"/> get 413 before they are read.
/// </summary>
internal static class EmbedTextEndpoint
{
    public const string Route = "/embed/text";

    public const string HelloRoute = "/embed/hello";

    public const string SignatureHeader = "X-DbFirst-Signature";

    /// <summary>The longest text accepted, in UTF-8 bytes; <c>gallery.text_embeddings</c> enforces the same.</summary>
    public const int MaxTextBytes = 2000;

    /// <summary>The largest request body: the longest text fully \u-escaped in JSON, plus the nonce.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private const int NonceBytes = 32;

    /// <summary>Maps both routes; the host registers an <see cref="ITextEmbedder"/> and an <see cref="EncoderKey"/> as singletons.</summary>
    public static IEndpointConventionBuilder MapEmbedTextEndpoint(this IEndpointRouteBuilder endpoints)
    {
        // Cast to Delegate: the IResult each handler returns is what gets written.
        endpoints.MapPost(HelloRoute, (Delegate)HandleHelloAsync);
        return endpoints.MapPost(Route, (Delegate)HandleTextAsync);
    }

    internal static async Task<IResult> HandleHelloAsync(HttpContext context)
    {
        var (request, problem) = await ReadAsync<HelloRequest>(context);
        if (problem is not null)
        {
            return problem;
        }

        if (ParseNonce(request?.Nonce) is not { } nonce)
        {
            return Results.Problem("the body must be {\"nonce\": \"<64 hex digits>\"}", statusCode: StatusCodes.Status400BadRequest);
        }

        var key = context.RequestServices.GetRequiredService<EncoderKey>();
        return Results.Json(new HelloResponse(await key.ProveAsync(nonce)), DbFirstJson.Options);
    }

    internal static async Task<IResult> HandleTextAsync(HttpContext context)
    {
        var (request, problem) = await ReadAsync<EmbedTextRequest>(context);
        if (problem is not null)
        {
            return problem;
        }

        if (request?.Text is not { } text || string.IsNullOrWhiteSpace(text))
        {
            return Results.Problem("the body must be {\"text\": \"...\"} with non-empty text", statusCode: StatusCodes.Status400BadRequest);
        }

        if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxTextBytes)
        {
            return Results.Problem($"the text is longer than {MaxTextBytes} bytes", statusCode: StatusCodes.Status400BadRequest);
        }

        byte[]? nonce = null;
        if (request.Nonce is not null && (nonce = ParseNonce(request.Nonce)) is null)
        {
            return Results.Problem("the nonce must be 64 hex digits", statusCode: StatusCodes.Status400BadRequest);
        }

        var embedder = context.RequestServices.GetRequiredService<ITextEmbedder>();
        var (model, embedding) = embedder.EmbedWithModel(text);
        var body = JsonSerializer.SerializeToUtf8Bytes(new EmbedTextResponse(model, embedding.Length, embedding), DbFirstJson.Options);
        if (nonce is not null)
        {
            var key = context.RequestServices.GetRequiredService<EncoderKey>();
            context.Response.Headers[SignatureHeader] = await key.SignAsync(nonce, text, body);
        }

        return Results.Bytes(body, "application/json");
    }

    // Refuses other hosts and oversized bodies before reading anything: Content-Length is checked first, and
    // Kestrel's own limit is lowered so a chunked body fails at MaxBodyBytes instead of its 30 MB default.
    private static async Task<(T? Request, IResult? Problem)> ReadAsync<T>(HttpContext context)
        where T : class
    {
        if (!IsLoopback(context.Connection.RemoteIpAddress))
        {
            return (null, Results.Problem("the text encoder answers loopback callers only", statusCode: StatusCodes.Status403Forbidden));
        }

        var tooLarge = Results.Problem($"the body is larger than {MaxBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge);
        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return (null, tooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        try
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[4096];
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return (null, tooLarge);
                }

                buffer.Write(chunk, 0, read);
            }

            return (JsonSerializer.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), DbFirstJson.Options), null);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, tooLarge);
        }
        catch (JsonException)
        {
            return (null, Results.Problem("the body is not JSON", statusCode: StatusCodes.Status400BadRequest));
        }
    }

    private static byte[]? ParseNonce(string? hex)
    {
        if (hex is not { Length: NonceBytes * 2 })
        {
            return null;
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    internal sealed record HelloRequest([property: JsonPropertyName("nonce")] string? Nonce);

    internal sealed record HelloResponse([property: JsonPropertyName("proof")] string Proof);

    internal sealed record EmbedTextRequest(
        [property: JsonPropertyName("text")] string? Text,
        [property: JsonPropertyName("nonce")] string? Nonce);

    internal sealed record EmbedTextResponse(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("dim")] int Dim,
        [property: JsonPropertyName("embedding")] float[] Embedding);
}
