using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Gatehouse.Hosting;
using Gatehouse.Admin;
using Gatehouse.Entities;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Reliability;

/// <summary>
/// Fuzz target: the Admin API body decoder (<see cref="AdminBodyReader"/> with <see cref="FormArgumentDecoder"/> and
/// the schema-driven value inference) over JSON, form-urlencoded and multipart bodies built from Kong entities and
/// Kong's argument syntax (<c>a[]</c>, <c>a[2]</c>, <c>a.b</c>, <c>a[b]</c>, percent escapes), then mutated.
/// Properties: the decoder never throws, a refusal is a 4xx with Kong's <c>{"message": …}</c> JSON, a decoded body is
/// a serialisable JSON object, and memory and time stay bounded by the body's size.
/// </summary>
public sealed class AdminBodyFuzzTests(ITestOutputHelper output)
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddLogging().BuildServiceProvider();
    private static readonly IReadOnlyList<EntitySchema> Schemas = GatehouseEntities.Default.Schemas;

    public sealed record Input(string? ContentType, byte[] Body, int Schema)
    {
        public override string ToString() => $"content-type: {ContentType ?? "(none)"}; schema: {(Schema < 0 ? "none" : Schemas[Schema].Name)}; body: {Encoding.Latin1.GetString(Body)}";
    }

    private static readonly string[] KeyForms =
    [
        "{0}", "{0}[]", "{0}[{1}]", "{0}.{2}", "{0}[{2}]", "{0}[{2}][]", "{0}.{2}[{1}]", "{0}[{1}][{1}]", "{0}[", "{0}]", "[{2}]", "[]", ".", "{0}..{2}", "{0}[{2}.{2}]",
    ];
    private static readonly string[] Fields = ["name", "paths", "hosts", "methods", "headers", "url", "port", "protocols", "config", "tags", "service", "service.id", "strip_path", "snis", "enabled", "retries", "config.key_names", "config.minute"];

    private static string Index(Random r) => r.Next(12) switch
    {
        0 => "0",
        1 => "-1",
        2 => r.Next(100, 3_000_000).ToString(), // large enough to show an unbounded array fill, small enough not to exhaust the machine
        3 => "99999999999",
        4 => "1e3",
        _ => r.Next(1, 6).ToString(),
    };

    private static string FormKey(Random r) => string.Format(KeyForms[r.Next(KeyForms.Length)], Fields[r.Next(Fields.Length)], Index(r), KongShapes.Word(r));

    private static string FormValue(Random r) => r.Next(6) switch
    {
        0 => Uri.EscapeDataString(KongShapes.Random(r)),
        1 => "%" + r.Next(256).ToString("X2") + "%" + r.Next(256).ToString("x2"),
        2 => Uri.EscapeDataString(KongShapes.Path(r)),
        3 => r.Next(-5, 70000).ToString(),
        4 => r.Next(2) == 0 ? "true" : "false",
        _ => KongShapes.Word(r).Replace("&", "%26").Replace("=", "%3D"),
    };

    private static JsonObject Entity(Random r) => r.Next(4) switch
    {
        0 => KongShapes.Service(r, 1),
        1 => KongShapes.Route(r, 1),
        2 => KongShapes.Consumer(r, 1),
        _ => KongShapes.Plugin(r, 1),
    };

    private static readonly Gen<Input> Inputs = Gen.Int.Select(seed =>
    {
        var r = new Random(seed);
        var schema = r.Next(-1, Schemas.Count);
        string? type;
        byte[] body;
        switch (r.Next(4))
        {
            case 0:
                type = r.Next(8) switch { 0 => null, 1 => "application/json; charset=utf-8", 2 => "text/plain", 3 => "application/JSON", _ => "application/json" };
                body = Encoding.UTF8.GetBytes(Entity(r).ToJsonString());
                break;
            case 1:
                type = r.Next(6) == 0 ? "application/x-www-form-urlencoded; charset=latin1" : "application/x-www-form-urlencoded";
                body = Encoding.UTF8.GetBytes(string.Join("&", Enumerable.Range(0, r.Next(1, 10)).Select(_ => r.Next(10) == 0 ? FormKey(r) : FormKey(r) + "=" + FormValue(r))));
                break;
            case 2:
                var boundary = r.Next(5) == 0 ? KongShapes.Random(r) : "b" + r.Next(1000);
                type = r.Next(8) switch { 0 => "multipart/form-data", 1 => "multipart/form-data; boundary=\"\"", _ => "multipart/form-data; boundary=" + boundary };
                var sb = new StringBuilder();
                for (var i = r.Next(0, 5); i > 0; i--)
                    sb.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"{FormKey(r)}\"\r\n\r\n{KongShapes.Random(r)}\r\n");
                if (r.Next(4) > 0) sb.Append($"--{boundary}--\r\n");
                body = Encoding.UTF8.GetBytes(sb.ToString());
                break;
            default:
                type = r.Next(3) switch { 0 => ";;;=", 1 => "multipart/mixed; boundary=x", _ => "application/json; charset" };
                body = Encoding.UTF8.GetBytes(KongShapes.Random(r));
                break;
        }
        if (r.Next(3) == 0) body = KongShapes.Mutate(r, body);
        return new Input(type, body, schema);
    });

    [Fact]
    public void Admin_body_decoder_holds_its_properties()
    {
        new FuzzRun<Input>("admin-body-decoder", Inputs, i => i.ToString(), output)
        {
            MemoryBudget = i => (8L << 20) + 2000L * i.Body.Length,
        }.Run(Check);
    }

    private static void Check(Input input)
    {
        var http = new DefaultHttpContext { RequestServices = Services };
        http.Request.Method = "POST";
        http.Request.ContentType = input.ContentType;
        http.Request.Body = new MemoryStream(input.Body);
        var read = AdminBodyReader.ReadAsync(http.Request, input.Schema < 0 ? null : Schemas[input.Schema], CancellationToken.None);
        if (!((IAsyncResult)read).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(20))) throw new PropertyFailure("decoder did not finish");
        var body = read.GetAwaiter().GetResult();
        if ((body.Value is null) == (body.Error is null)) throw new PropertyFailure("neither or both of value and error");
        if (body.Value is { } value) _ = value.ToJsonString();
        if (body.Error is { } error)
        {
            var response = new DefaultHttpContext { RequestServices = Services };
            var sink = new MemoryStream();
            response.Response.Body = sink;
            error.ExecuteAsync(response).GetAwaiter().GetResult();
            if (response.Response.StatusCode is < 400 or > 499) throw new PropertyFailure("refusal is not a 4xx", response.Response.StatusCode.ToString());
            if (JsonNode.Parse(sink.ToArray()) is not JsonObject { } json || json["message"] is not JsonValue)
                throw new PropertyFailure("refusal is not Kong's error JSON", Encoding.UTF8.GetString(sink.ToArray()));
        }
    }
}
