using System.Net;
using System.Text;
using Gatehouse.Proxy.Pipeline;
using Gatehouse.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static Gatehouse.Tests.Infrastructure.TestConfig;

namespace Gatehouse.Tests.Proxy;

/// <summary>The phased pipeline through the real gateway: short-circuit, body rewriting (streaming and buffered),
/// handler exceptions, rewrite-phase exits, captures in the context, and the log phase always running.</summary>
public sealed class PipelineTests : IAsyncLifetime
{
    private readonly CaptureAndLogHandler _capture = new();
    private EchoUpstream _upstream = null!;
    private GatewayFixture _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await EchoUpstream.StartAsync();
        var contributor = new TestContributor(new RewriteExitHandler(), new BlockingHandler(), new ThrowingHandler(), new ThrowingHeadersHandler(), _capture);
        _gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(contributor));
        var service = Service(_upstream);
        var upper = Route(service, "upper", paths: ["/upper"]);
        _gateway.Publish(Of([service], [
            Route(service, "users", paths: [@"~/users/(?<id>\d+)/(\w+)"]) with { StripPath = false },
            upper,
            Route(service, "plain", paths: ["/"]),
        ]));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task ShortCircuitAnswersWithoutTheUpstream()
    {
        using var request = ProxyRequests.Get("/anything");
        request.Headers.Add("X-Block", "1");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("blocked by test", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Single("X-Blocked"));
        Assert.Null(response.Single("X-Echo"));
        Assert.True(await _capture.HasLoggedAsync(l => l.Path == "/anything" && l.Status == 403));
    }

    [Fact]
    public async Task RewritePhaseRunsBeforeRouting()
    {
        _gateway.Publish(Of([], []));
        using var response = await _gateway.Client.GetAsync("/rewrite-exit");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"message\":\"answered in rewrite\"}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HandlerExceptionAnswers500AndLogPhaseStillRuns()
    {
        using var request = ProxyRequests.Get("/boom");
        request.Headers.Add("X-Throw", "1");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{\"message\":\"An unexpected error occurred\"}", await response.Content.ReadAsStringAsync());
        Assert.True(await _capture.HasLoggedAsync(l => l.Path == "/boom" && l.Status == 500 && l.HadError));
    }

    [Fact]
    public async Task ResponseHeadersHandlerExceptionAnswers500InsteadOfTheUpstreamBody()
    {
        using var request = ProxyRequests.Get("/upper/x");
        request.Headers.Add("X-Throw-Headers", "1");
        using var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("{\"message\":\"An unexpected error occurred\"}", await response.Content.ReadAsStringAsync());
        Assert.Null(response.Single("X-Echo"));
        using var next = await _gateway.Client.GetAsync("/upper/y");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task RegexCapturesReachTheContext()
    {
        using var request = ProxyRequests.Get("/users/42/profile");
        using var response = await _gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal("users", response.Single("Gatehouse-Route-Name"));
        Assert.Equal("id=42|/users/42/profile,42,profile", echo.Header("x-captures"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BodyHandlerRewritesTheUpstreamBody(bool buffered)
    {
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(new UpperCaseBodyHandler())));
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { StripPath = false }]));
        using var request = ProxyRequests.Get("/mixed/Case?q=abc");
        if (buffered) request.Headers.Add("X-Buffer", "1");
        using var response = await gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Single("X-Body-Rewritten"));
        Assert.Contains("\"PATH\":\"/MIXED/CASE\"", body);
        Assert.Equal(body.ToUpperInvariant(), body);
        if (response.Content.Headers.ContentLength is { } length) Assert.Equal(Encoding.UTF8.GetByteCount(body), length);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RequestBodyHandlerRewritesWhatTheUpstreamReceives(bool buffered)
    {
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(new UpperCaseRequestBodyHandler())));
        var service = Service(_upstream);
        // request_buffering off: the body streams through the handler (its length unknown upstream: chunked), unless
        // the handler holds it to its end, which makes the length known before the upstream is contacted
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { RequestBuffering = false }]));
        var body = string.Concat(Enumerable.Range(0, 5000).Select(i => $"chunk{i};"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StringContent(body, Encoding.ASCII, "text/plain") };
        if (buffered) request.Headers.Add("X-Buffer", "1");
        using var response = await gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.ToUpperInvariant(), echo.Body);
        if (buffered)
        {
            Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), echo.Header("content-length"));
            Assert.Null(echo.Header("transfer-encoding"));
        }
        else
        {
            Assert.Null(echo.Header("content-length"));
            Assert.Equal("chunked", echo.Header("transfer-encoding"));
        }
    }

    [Fact]
    public async Task WithRequestBufferingTheRewrittenBodyGoesUpstreamWithItsContentLength()
    {
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(new UpperCaseRequestBodyHandler())));
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])])); // request_buffering: Kong's default, true
        var body = string.Concat(Enumerable.Range(0, 5000).Select(i => $"chunk{i};"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StringContent(body, Encoding.ASCII, "text/plain") };
        request.Headers.TransferEncodingChunked = true;
        using var response = await gateway.Client.SendAsync(request);
        var echo = await response.EchoAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.ToUpperInvariant(), echo.Body);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), echo.Header("content-length"));
        Assert.Null(echo.Header("transfer-encoding"));
    }

    /// <summary>A request-body handler that passes the bytes on unchanged hands back a view of the reader's own buffer
    /// (the client's bytes are read straight into it): every byte still arrives in order, whether the gateway reads the
    /// body whole first (request_buffering) or the forwarder streams it, with a known length or chunked.</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public async Task APassThroughRequestBodyHandlerKeepsEveryByteInOrder(bool requestBuffering, bool chunked)
    {
        var recorder = new RecordingRequestBodyHandler();
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(recorder)));
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"]) with { RequestBuffering = requestBuffering }]));
        var body = string.Concat(Enumerable.Range(0, 12_000).Select(i => $"{i % 997};")); // ~50 KB: several reads
        using var request = new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new StringContent(body, Encoding.ASCII, "text/plain") };
        if (chunked) request.Headers.TransferEncodingChunked = true;
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(body, (await response.EchoAsync()).Body);
        Assert.Equal(body.Length, recorder.Calls.Sum(c => c.Size));
        Assert.True(recorder.Calls.Last().End);
    }

    [Fact]
    public async Task RequestBodyPhaseSkipsBodilessRequestsAndEndsWithTheLastByteOfAKnownLength()
    {
        var recorder = new RecordingRequestBodyHandler();
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(recorder)));
        var service = Service(_upstream);
        gateway.Publish(Of([service], [Route(service, "r", paths: ["/"])]));
        using (var get = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/no-body")))
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Empty(recorder.Calls); // as Kong: no body, no on_request_body
        using var post = new HttpRequestMessage(HttpMethod.Post, "/small") { Content = new StringContent("0123456789", Encoding.ASCII, "text/plain") };
        using var response = await gateway.Client.SendAsync(post);
        Assert.Equal("0123456789", (await response.EchoAsync()).Body);
        Assert.Equal([(10, true)], recorder.Calls.ToArray()); // one call: the data and the end of stream together
    }

    [Fact]
    public async Task BodyPhaseRunsOnceOnUpstreamErrors()
    {
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(new AppendAtEndHandler())));
        var dead = Service("127.0.0.1", EchoUpstream.ClosedPort()) with { Retries = 0 };
        var live = Service(_upstream);
        gateway.Publish(Of([dead, live], [Route(dead, "dead", paths: ["/dead"]), Route(live, "live", paths: ["/live"])]));
        using var failed = await gateway.Client.GetAsync("/dead");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("{\"message\":\"An invalid response was received from the upstream server\"}!", await failed.Content.ReadAsStringAsync());
        using var ok = await gateway.Client.GetAsync("/live");
        var body = await ok.Content.ReadAsStringAsync();
        Assert.EndsWith("}!", body);
        Assert.Single(body, '!');
    }

    [Fact]
    public async Task BodyHandlerAlsoRewritesLocalAnswers()
    {
        await using var gateway = await GatewayFixture.StartAsync(services: s => s.AddSingleton<IPhasePlanContributor>(new TestContributor(new UpperCaseBodyHandler())));
        using var response = await gateway.Client.GetAsync("/none");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("{\"MESSAGE\":\"NO ROUTE MATCHED WITH THOSE VALUES\"}", await response.Content.ReadAsStringAsync());
    }
}
