using System.Net;
using DbFirst.Runner.Hosting;
using DbFirst.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbFirst.Tests.Runner.Hosting;

public sealed class EmbedTextEndpointTests
{
    [Theory]
    [InlineData("10.0.0.7", StatusCodes.Status403Forbidden)]
    [InlineData("192.168.1.20", StatusCodes.Status403Forbidden)]
    [InlineData("127.0.0.1", StatusCodes.Status200OK)]
    [InlineData("::1", StatusCodes.Status200OK)]
    [InlineData("::ffff:127.0.0.1", StatusCodes.Status200OK)]
    public async Task OnlyLoopbackCallers_GetAnEmbedding(string remote, int expected)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddSingleton<DbFirst.Search.ITextEmbedder>(new FakeTextEmbedder()).AddLogging().BuildServiceProvider(),
        };
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Request.Body = new MemoryStream("{\"text\":\"a red car\"}"u8.ToArray());
        context.Response.Body = new MemoryStream();

        var result = await EmbedTextEndpoint.HandleTextAsync(context);
        await result.ExecuteAsync(context);

        Assert.Equal(expected, context.Response.StatusCode);
    }
}
