using System.Text;
using Gatehouse.Proxy.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ProxyWasm.Http;
using ProxyWasm.Runtime;

namespace Gatehouse.Wasm;

/// <summary>
/// Kong's <c>kong.*</c> properties (§7.2) for one request, with Kong's read/write rules: ids and names of the
/// matched route and service, client protocol, subsystem, version, and <c>kong.ctx.shared.&lt;key&gt;</c>
/// (two-way with C# handlers through <see cref="ProxyContext.Shared"/>), <c>kong.node.id</c> and
/// <c>kong.configuration.&lt;key&gt;</c>, the matched entities as JSON (<c>kong.router.route/service</c>), the
/// upstream overrides (<c>kong.service.target</c>, <c>kong.service.request.scheme</c>), <c>kong.response.source</c>,
/// and the <c>ngx.*</c> variables of <see cref="NgxVariables"/>. Envoy-style request/response
/// attributes come from the host library's built-ins.
/// </summary>
internal sealed class KongPropertyProvider(ProxyContext context) : IPropertyProvider
{
    private const string SharedPrefix = "kong.ctx.shared.";
    private const string ConfigurationPrefix = "kong.configuration.";

    public bool TryGetProperty(string path, PropertyEncoding encoding, out ReadOnlyMemory<byte> value)
    {
        if (EnvoyAttribute(path, encoding) is { } attribute)
        {
            value = attribute;
            return true;
        }
        var text = Get(path);
        // request header variables (ngx.http_*) are byte strings: their bytes exactly as the client sent them
        value = text is null ? default
            : NgxVariables.IsHeader(path) ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
        return text is not null;
    }

    public bool TrySetProperty(string path, ReadOnlySpan<byte> value)
    {
        if (path.StartsWith(SharedPrefix, StringComparison.Ordinal))
        {
            var key = path[SharedPrefix.Length..];
            if (value.IsEmpty) context.Shared.Remove(key);
            else context.Shared[key] = Encoding.UTF8.GetString(value);
            return true;
        }
        if (path.StartsWith(NgxVariables.Prefix, StringComparison.Ordinal))
            return NgxVariables.TrySet(context, path[NgxVariables.Prefix.Length..], Encoding.UTF8.GetString(value));
        if (path == "kong.service.target") return UpstreamOverrides.TrySetTarget(context, Encoding.UTF8.GetString(value));
        if (path == "kong.service.upstream") return UpstreamOverrides.TrySetUpstream(context, Encoding.UTF8.GetString(value));
        if (path == "kong.service.request.scheme") return UpstreamOverrides.TrySetScheme(context, Encoding.UTF8.GetString(value));
        if (path == "kong.response.status" && int.TryParse(Encoding.UTF8.GetString(value), out var status)
            && !context.HttpContext.Response.HasStarted)
        {
            context.HttpContext.Response.StatusCode = status;
            return true;
        }
        return false;
    }

    /// <summary>
    /// The Envoy request/connection attributes that come straight from the request (computed on read, typed as Envoy
    /// types them): <c>request.id</c> (X-Request-Id, else the gateway's request id, as <c>ngx.request_id</c>),
    /// <c>request.protocol</c>, <c>request.time</c> (when the gateway began the request), <c>source.address/port</c>
    /// (the client), <c>destination.address/port</c> (the listener), the <c>connection.*</c> of <see cref="ConnectionProperties"/>,
    /// <c>request.referer/useragent/size/duration/is_subrequest</c>, <c>response.size</c>, <c>upstream.address/port</c>,
    /// <c>request.total_size</c> and <c>response.total_size</c> (nginx's <c>$request_length</c> and <c>$bytes_sent</c>, HTTP/1.x and HTTP/2).
    /// Request path/method/headers and the response's code/headers are the host library's built-ins; the other Envoy
    /// attributes are not found (docs/proxy-wasm-conformance.md).
    /// </summary>
    private byte[]? EnvoyAttribute(string path, PropertyEncoding encoding)
    {
        var http = context.HttpContext;
        var connection = http.Connection;
        return path switch
        {
            // ngx_wasm_module maps the request attributes onto nginx variables; with its encoding the filter gets exactly
            // those: $request_uri, $uri (normalised), $scheme, $request_method, $args (not found without a query),
            // the X-Request-Id header alone, and — its mapping, kept for filters written against it — $hostname
            // (the machine's name) for request.host
            "request.path" when encoding == PropertyEncoding.Text => Ngx("request_uri"),
            "request.url_path" when encoding == PropertyEncoding.Text => Ngx("uri"),
            "request.host" when encoding == PropertyEncoding.Text => Ngx("hostname"),
            "request.scheme" when encoding == PropertyEncoding.Text => Ngx("scheme"),
            "request.method" when encoding == PropertyEncoding.Text => Ngx("request_method"),
            "request.query" when encoding == PropertyEncoding.Text => Ngx("args"),
            "request.id" when encoding == PropertyEncoding.Text => Header(http, "X-Request-Id"),
            "request.id" => PropertyValues.String(NgxVariables.Get(context, "request_id")!),
            "request.protocol" => PropertyValues.String(http.Request.Protocol),
            "request.time" => PropertyValues.Timestamp(RequestTime(), encoding),
            // the client and the listener, in the conventions of the filter's encoding: Envoy's (binary) "ip:port" and an
            // integer port; ngx_wasm_module's (text) $remote_addr / $remote_port, the address without its port.
            // (ngx_wasm_module maps destination.* to the PROXY header's client, not the destination: docs/kong-wasm-differences.md)
            "source.address" => connection.RemoteIpAddress is { } remote ? Address(remote, connection.RemotePort, encoding) : null,
            "source.port" => connection.RemoteIpAddress is null ? null : PropertyValues.Int64(connection.RemotePort, encoding),
            "destination.address" => connection.LocalIpAddress is { } local ? Address(local, connection.LocalPort, encoding) : null,
            "destination.port" => connection.LocalIpAddress is null ? null : PropertyValues.Int64(connection.LocalPort, encoding),
            _ when path.StartsWith(ConnectionProperties.Prefix, StringComparison.Ordinal) => ConnectionProperties.Get(http, path, encoding),
            // ngx_wasm_module: the peer of the current try, split at its last ':' (IPv6 in brackets), port as text;
            // Envoy: "ip:port" and an integer port. Not found before a peer is chosen. Gatehouse knows the peer of
            // balanced services (a service host that is an upstream)
            "upstream.address" => context.Peer is { } peer
                ? PropertyValues.String(encoding == PropertyEncoding.Text ? peer.Peer.Endpoint[..peer.Peer.Endpoint.LastIndexOf(':')] : peer.Peer.Endpoint)
                : null,
            "upstream.port" => context.Peer is { } current ? PropertyValues.Int64(current.Peer.Port, encoding) : null,
            // request headers by name, as ngx_wasm_module ($http_referer / $http_user_agent); not found without them
            "request.referer" => Header(http, "Referer"),
            "request.useragent" => Header(http, "User-Agent"),
            // ngx: $content_length (the header as sent); Envoy: the body size, from Content-Length; not found without it
            "request.size" when encoding == PropertyEncoding.Text => Ngx("content_length"),
            "request.size" => http.Request.ContentLength is { } length ? PropertyValues.Int64(length, encoding) : null,
            // ngx: $request_time (sec.msec since the request began); Envoy: a duration in nanoseconds
            "request.duration" when encoding == PropertyEncoding.Text => Ngx("request_time"),
            "request.duration" => PropertyValues.Int64(NgxVariables.Elapsed(context).Ticks * 100, encoding),
            // ngx_wasm_module's; Gatehouse has no subrequests
            "request.is_subrequest" => PropertyValues.Bool(false, encoding),
            // ngx: $body_bytes_sent, the body bytes sent to the client so far (0 before the body goes out)
            "response.size" when encoding == PropertyEncoding.Text => Ngx("body_bytes_sent"),
            "response.size" => PropertyValues.Int64(context.ResponseBodyBytes, encoding),
            // ngx: $request_length and $bytes_sent; Envoy: the same byte counts as integers. HTTP/1.x and HTTP/2 (nginx's
            // rules for each; not found on HTTP/3); the response's are complete in the log phase
            "request.total_size" when encoding == PropertyEncoding.Text => Ngx("request_length"),
            "request.total_size" => Proxy.ConnectionActivity.Of(http)?.RequestBytes(http) is { } received ? PropertyValues.Int64(received, encoding) : null,
            "response.total_size" when encoding == PropertyEncoding.Text => Ngx("bytes_sent"),
            "response.total_size" => Proxy.ConnectionActivity.Of(http)?.ResponseBytes(http) is { } sent ? PropertyValues.Int64(sent, encoding) : null,
            _ => null,
        };
    }

    private byte[]? Ngx(string variable) => NgxVariables.Get(context, variable) is { } text ? PropertyValues.String(text) : null;

    private static byte[]? Header(HttpContext http, string name) =>
        http.Request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? Encoding.Latin1.GetBytes(values.ToString()) : null;

    private static byte[] Address(System.Net.IPAddress address, int port, PropertyEncoding encoding) =>
        PropertyValues.String(encoding == PropertyEncoding.Text ? address.ToString() : new System.Net.IPEndPoint(address, port).ToString());

    private DateTimeOffset RequestTime()
    {
        var time = context.HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        return time.GetUtcNow() - NgxVariables.Elapsed(context);
    }

    private string? Get(string path)
    {
        if (path.StartsWith(SharedPrefix, StringComparison.Ordinal))
            return context.Shared.TryGetValue(path[SharedPrefix.Length..], out var v) && v is not null ? v.ToString() : null;
        return path switch
        {
            "kong.route_id" => context.Route?.Id.ToString(),
            "kong.route_name" => context.Route?.Name,
            "kong.service_id" => context.Service?.Id.ToString(),
            "kong.service_name" => context.Service?.Name,
            "kong.client.protocol" => context.HttpContext.Request.Scheme,
            "kong.nginx.subsystem" => "http",
            "kong.version" => GatehouseVersion.Kong,
            "kong.request.port" or "kong.request.forwarded_port" =>
                context.HttpContext.Connection.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "kong.request.forwarded_scheme" => context.HttpContext.Request.Scheme,
            "kong.request.forwarded_host" => context.HttpContext.Request.Host.Host,
            "kong.service.response.status" => context.UpstreamStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "kong.router.route" => context.Route is { } route ? KongEntityJson.Route(route) : null,
            "kong.router.service" => context.Service is { } service ? KongEntityJson.Service(service) : null,
            "kong.response.source" => ResponseSource(),
            "kong.node.id" => context.HttpContext.RequestServices.GetService<Config.AdminNodeInfo>()?.NodeId.ToString(),
            "kong.node.memory_stats" => MemoryStats(),
            _ when path.StartsWith(ConfigurationPrefix, StringComparison.Ordinal) => Configuration(path[ConfigurationPrefix.Length..]),
            _ when path.StartsWith(NgxVariables.Prefix, StringComparison.Ordinal) => NgxVariables.Get(context, path[NgxVariables.Prefix.Length..]),
            _ => null,
        };
    }

    /// <summary>Kong's <c>kong.response.get_source()</c> (the 3.6–3.9 getter calls a missing function; we implement
    /// the intent): <c>error</c> after a failure, <c>exit</c> for a local answer (plugin, filter or gateway),
    /// <c>service</c> once the upstream answered, <c>error</c> otherwise.</summary>
    private string ResponseSource() =>
        context.Error is not null ? "error"
        : context.LocalResponse is not null ? "exit"
        : context.UpstreamStatus is not null ? "service"
        : "error";

    /// <summary><c>kong.node.memory_stats</c>: Kong's <c>kong.node.get_memory_stats()</c> JSON (bytes). Kong lists one Lua
    /// VM per nginx worker and its shared dicts; Gatehouse has one process and no shared dicts, so one entry (this
    /// process's pid and its managed heap, what a GC-collected VM has allocated) and an empty <c>lua_shared_dicts</c>.</summary>
    private static string MemoryStats() =>
        new System.Text.Json.Nodes.JsonObject
        {
            ["workers_lua_vms"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["http_allocated_gc"] = GC.GetTotalMemory(false),
                ["pid"] = Environment.ProcessId,
            }),
            ["lua_shared_dicts"] = new System.Text.Json.Nodes.JsonObject(),
        }.ToJsonString();

    /// <summary><c>kong.configuration.&lt;key&gt;</c>: the settings as <c>GET /</c> echoes them (read-only); secrets
    /// (passwords, keys) are not found rather than given to filters.</summary>
    private string? Configuration(string key)
    {
        if (context.HttpContext.RequestServices.GetService<Config.GatehouseOptions>() is not { } options) return null;
        return key switch
        {
            "database" => options.Database.ToString().ToLowerInvariant(),
            "wasm" => options.Wasm ? "true" : "false",
            "role" => "traditional", // no hybrid mode: every node is a traditional one
            _ when Config.SensitiveConfKeys.IsSensitive(key) => null,
            _ => options.Raw.GetValueOrDefault(key),
        };
    }
}
