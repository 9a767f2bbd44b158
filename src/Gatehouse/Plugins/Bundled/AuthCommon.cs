using Gatehouse.Model;
using Gatehouse.Proxy.Pipeline;

namespace Gatehouse.Plugins.Bundled;

/// <summary>What key-auth and basic-auth share: Kong's <c>anonymous</c> fallback and consumer headers.</summary>
internal static class AuthCommon
{
    public const string InvalidCredentials = "Invalid authentication credentials";

    /// <summary>Identifies <paramref name="consumer"/> (with its credential) for the rest of the request.</summary>
    public static PhaseOutcome Authenticated(Kong kong, ConsumerModel consumer, string credentialIdentifier)
    {
        kong.Authenticate(consumer, credentialIdentifier);
        kong.SetConsumerHeaders(consumer, credentialIdentifier, anonymous: false);
        return PhaseOutcome.Continue;
    }

    /// <summary>On failure: the anonymous consumer when configured (Kong's 3.x behaviour), else the error.</summary>
    public static PhaseOutcome Fail(Kong kong, ConsumerIndex consumers, string? anonymous, int status, string message,
        IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        if (string.IsNullOrEmpty(anonymous)) return kong.Response.Exit(status, message, headers);
        if (kong.Consumer is not null) return PhaseOutcome.Continue; // another auth plugin already identified someone
        if (consumers.ByIdOrUsername(anonymous) is not { } anon)
            return kong.Response.Exit(500, "An unexpected error occurred");
        kong.Authenticate(anon, null);
        kong.SetConsumerHeaders(anon, null, anonymous: true);
        return PhaseOutcome.Continue;
    }
}
