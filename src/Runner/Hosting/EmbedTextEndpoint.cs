using System.Net;
using System.Text.Json.Serialization;
using DbFirst.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Runner.Hosting;

/// <summary>
/// <c>POST /embed/text</c> with <c>{"text": "..."}</c> answers <c>{"model": "...", "dim": 512, "embedding": [...]}</c>.
/// <c>gallery.search</c> calls it from inside PostgreSQL for text it has not cached yet. Loopback callers only:
/// the host's encoder is not a public service.
/// </summary>
internal static class EmbedTextEndpoint
{
    public const string Route = "/embed/text";

    /// <summary>The longest text accepted, in UTF-8 bytes; <c>gallery.text_embeddings</c> enforces the same.</summary>
    public const int MaxTextBytes = 2000;

    /// <summary>Maps the endpoint; the host registers an <see cref="ITextEmbedder"/> (CLIP's text encoder) as a singleton.</summary>
    public static IEndpointConventionBuilder MapEmbedTextEndpoint(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(Route, Handle);

    internal static IResult Handle(HttpContext context, EmbedTextRequest? request)
    {
        if (!IsLoopback(context.Connection.RemoteIpAddress))
        {
            return Results.Problem("the text encoder answers loopback callers only", statusCode: StatusCodes.Status403Forbidden);
        }

        if (request?.Text is not { } text || string.IsNullOrWhiteSpace(text))
        {
            return Results.Problem("the body must be {\"text\": \"...\"} with non-empty text", statusCode: StatusCodes.Status400BadRequest);
        }

        if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxTextBytes)
        {
            return Results.Problem($"the text is longer than {MaxTextBytes} bytes", statusCode: StatusCodes.Status400BadRequest);
        }

        var embedder = context.RequestServices.GetRequiredService<ITextEmbedder>();
        var embedding = embedder.Embed(text);
        return Results.Json(new EmbedTextResponse(embedder.Model, embedding.Length, embedding));
    }

    private static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    internal sealed record EmbedTextRequest([property: JsonPropertyName("text")] string? Text);

    internal sealed record EmbedTextResponse(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("dim")] int Dim,
        [property: JsonPropertyName("embedding")] float[] Embedding);
}
