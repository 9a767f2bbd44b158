using System.Text;
using System.Text.Json;
using Gatehouse.Model;

namespace Gatehouse.Wasm;

/// <summary>The matched route and service as Kong's <c>kong.router.route</c> / <c>kong.router.service</c> give them
/// (§7.2): the entity's fields, snake_case, with the route's service as a <c>{"id": …}</c> foreign key, so a filter
/// can parse the same JSON it would get from Kong. Built only when a filter reads the property.</summary>
internal static class KongEntityJson
{
    public static string Route(RouteModel r) => Write(w =>
    {
        w.WriteString("id", r.Id);
        w.WriteNumber("created_at", r.CreatedAt);
        w.WriteNumber("updated_at", r.UpdatedAt);
        StringOrNull(w, "name", r.Name);
        Strings(w, "protocols", r.Protocols);
        StringsOrNull(w, "methods", r.Methods);
        StringsOrNull(w, "hosts", r.Hosts);
        StringsOrNull(w, "paths", r.Paths);
        if (r.Headers.Count == 0) w.WriteNull("headers");
        else
        {
            w.WriteStartObject("headers");
            foreach (var (name, values) in r.Headers) Strings(w, name, values);
            w.WriteEndObject();
        }
        StringsOrNull(w, "snis", r.Snis);
        w.WriteBoolean("strip_path", r.StripPath);
        w.WriteBoolean("preserve_host", r.PreserveHost);
        w.WriteNumber("regex_priority", r.RegexPriority);
        w.WriteString("path_handling", r.PathHandling);
        w.WriteNumber("https_redirect_status_code", r.HttpsRedirectStatusCode);
        w.WriteBoolean("request_buffering", r.RequestBuffering);
        w.WriteBoolean("response_buffering", r.ResponseBuffering);
        StringsOrNull(w, "tags", r.Tags);
        if (r.ServiceId is { } sid)
        {
            w.WriteStartObject("service");
            w.WriteString("id", sid);
            w.WriteEndObject();
        }
        else w.WriteNull("service");
    });

    public static string Service(ServiceModel s) => Write(w =>
    {
        w.WriteString("id", s.Id);
        w.WriteNumber("created_at", s.CreatedAt);
        w.WriteNumber("updated_at", s.UpdatedAt);
        StringOrNull(w, "name", s.Name);
        w.WriteNumber("retries", s.Retries);
        w.WriteString("protocol", s.Protocol);
        w.WriteString("host", s.Host);
        w.WriteNumber("port", s.Port);
        StringOrNull(w, "path", s.Path);
        w.WriteNumber("connect_timeout", s.ConnectTimeout);
        w.WriteNumber("write_timeout", s.WriteTimeout);
        w.WriteNumber("read_timeout", s.ReadTimeout);
        StringsOrNull(w, "tags", s.Tags);
        if (s.TlsVerify is { } verify) w.WriteBoolean("tls_verify", verify); else w.WriteNull("tls_verify");
        if (s.TlsVerifyDepth is { } depth) w.WriteNumber("tls_verify_depth", depth); else w.WriteNull("tls_verify_depth");
        w.WriteBoolean("enabled", s.Enabled);
    });

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    private static void StringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    private static void StringsOrNull(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0) w.WriteNull(name); else Strings(w, name, values);
    }

    private static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
