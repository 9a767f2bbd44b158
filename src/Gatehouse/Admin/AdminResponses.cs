using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Entities;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Admin;

/// <summary>The Admin API's response shapes, in one place: entities, Kong errors and the fixed messages.</summary>
internal static class AdminResponses
{
    internal const string JsonType = "application/json; charset=utf-8";

    /// <summary>Kong's cjson does not escape quotes, apostrophes or non-ASCII; neither do we.</summary>
    private static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>What <see cref="Json"/> writes with, for an answer written with a <see cref="Utf8JsonWriter"/> of its own
    /// (the serializer's default depth limit, 64, included).</summary>
    internal static readonly JsonWriterOptions WireWriter = new() { Encoder = Wire.Encoder, MaxDepth = 64 };

    public static IResult Json(JsonNode body, int status = StatusCodes.Status200OK) =>
        Results.Text(body.ToJsonString(Wire), JsonType, statusCode: status);

    public static IResult Error(DbError error) =>
        error.Code == DbErrorCode.NotFound ? NotFound() : Json(error.ToJson(), error.HttpStatus);

    public static IResult Message(string message, int status) => Json(new JsonObject { ["message"] = message }, status);

    public static IResult NotFound() => Message("Not found", StatusCodes.Status404NotFound);

    public static IResult MethodNotAllowed() => Message("Method not allowed", StatusCodes.Status405MethodNotAllowed);

    public static IResult BadJson() => Message("Cannot parse JSON body", StatusCodes.Status400BadRequest);

    public static IResult NoContent() => Results.StatusCode(StatusCodes.Status204NoContent);
}
