using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled.RequestSizeLimiting;

/// <summary>Kong's request-size-limiting (priority 951): refuses bodies whose Content-Length exceeds the limit
/// (413), or that have none when <c>require_content_length</c> is set (411). A body without Content-Length
/// (chunked) is counted as it is read — stopping at the first byte over the limit (413) — and buffered so the
/// upstream still receives it, as Kong reads such bodies before proxying.</summary>
public sealed class RequestSizeLimitingPlugin : GatehousePlugin
{
    public override string Name => "request-size-limiting";
    public override int Priority => 951;
    public override IReadOnlyList<FieldDefinition> ConfigFields { get; } =
    [
        PluginFields.Integer("allowed_payload_size", 128),
        PluginFields.String("size_unit", "megabytes") with { OneOf = ["megabytes", "kilobytes", "bytes"] },
        PluginFields.Bool("require_content_length", false),
    ];

    public override PluginHandler Create(JsonObject config, PluginBuildContext context) => new Handler(config);

    private sealed class Handler(JsonObject config) : PluginHandler
    {
        private readonly long _limit = (ConfigRead.Long(config, "allowed_payload_size") ?? 128) * (ConfigRead.String(config, "size_unit") switch
        {
            "bytes" => 1L,
            "kilobytes" => 1024L,
            _ => 1024L * 1024,
        });
        private readonly bool _requireLength = ConfigRead.Bool(config, "require_content_length");

        public override ValueTask<PhaseOutcome> AccessAsync(Kong kong)
        {
            var length = kong.Context.HttpContext.Request.ContentLength;
            if (length is null)
            {
                var hasBody = kong.Context.HttpContext.Request.Headers.TransferEncoding.Count > 0;
                if (!hasBody) return ValueTask.FromResult(PhaseOutcome.Continue);
                return _requireLength
                    ? ValueTask.FromResult(kong.Response.Exit(411, "A valid Content-Length header is required"))
                    : CountAsync(kong);
            }
            return ValueTask.FromResult(length > _limit ? kong.Response.Exit(413, "Request size limit exceeded") : PhaseOutcome.Continue);
        }

        private async ValueTask<PhaseOutcome> CountAsync(Kong kong)
        {
            var http = kong.Context.HttpContext;
            http.Request.EnableBuffering();
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                long total = 0;
                int n;
                while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
                {
                    total += n;
                    if (total > _limit) return kong.Response.Exit(413, "Request size limit exceeded");
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
            http.Request.Body.Position = 0;
            return PhaseOutcome.Continue;
        }
    }
}
