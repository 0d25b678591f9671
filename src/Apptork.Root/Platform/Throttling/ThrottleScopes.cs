namespace Apptork.Root.Platform.Throttling;

/// <summary>The throttling scopes. Each has its own rates per role (<see cref="ThrottleRates"/>).</summary>
public static class ThrottleScopes
{
    /// <summary>Every request of a caller without an access token, per client IP.</summary>
    public const string Anon = "anon";

    /// <summary>Sign-in codes: per client IP (or user) at the endpoints, and per canonical address inside the OTP service.</summary>
    public const string Otp = "otp";

    /// <summary>Every request of a signed-in caller, per user.</summary>
    public const string User = "user";

    /// <summary>Creating AI generations, per user, by role.</summary>
    public const string AiGeneration = "ai_generation";

    /// <summary>Creating checkouts, per user.</summary>
    public const string Checkout = "checkout";

    public static IReadOnlyList<string> All { get; } = [Anon, Otp, User, AiGeneration, Checkout];

    /// <summary>
    /// While the shared store is unreachable these scopes refuse requests (503 <c>service_unavailable</c>) rather than let
    /// them through unlimited: unthrottled code requests mean mail bombing and code guessing, unthrottled checkouts mean
    /// card testing. The others fail open: an outage of Redis must not take the whole API down with it.
    /// </summary>
    public static bool FailsClosed(string scope) => scope is Otp or Checkout;
}

/// <summary>The roles rates are configured for: the access token's <c>role</c> claim, or these.</summary>
public static class ThrottleRoles
{
    /// <summary>Callers without an access token.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>The signed-in role whose rate applies to any signed-in role a scope names no rate for.</summary>
    public const string Free = "free";

    /// <summary>
    /// Code requests per canonical email address from all clients together (<see cref="ThrottleScopes.Otp"/> only): the
    /// ceiling that bounds the mail one address can be sent, above any one client's <see cref="EmailClient"/> budget.
    /// </summary>
    public const string Email = "email";

    /// <summary>Code requests per canonical email address and client (<see cref="ThrottleScopes.Otp"/> only).</summary>
    public const string EmailClient = "email_client";

    /// <summary>Code verifications per canonical email address and client (<see cref="ThrottleScopes.Otp"/> only).</summary>
    public const string EmailVerify = "email_verify";

    /// <summary>
    /// Wrong codes per canonical email address and client (<see cref="ThrottleScopes.Otp"/> only); the address-wide
    /// ceiling is <c>Auth__Otp__FailedVerifyBudget</c>.
    /// </summary>
    public const string FailedCodes = "failed_codes";
}
