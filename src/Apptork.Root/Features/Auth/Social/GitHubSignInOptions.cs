namespace Apptork.Root.Features.Auth.Social;

/// <summary>The <c>Auth__GitHub__*</c> settings of a GitHub OAuth app. Sign-in with GitHub is on when the client id is set.</summary>
public sealed class GitHubSignInOptions
{
    public const string Section = "Auth:GitHub";

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    public string TokenUrl { get; set; } = "https://github.com/login/oauth/access_token";

    public string ApiUrl { get; set; } = "https://api.github.com";
}
