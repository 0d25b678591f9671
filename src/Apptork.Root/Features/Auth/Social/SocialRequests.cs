using FluentValidation;

namespace Apptork.Root.Features.Auth.Social;

public sealed record GoogleSignInBody(string? IdToken);

/// <summary>Apple gives the app the person's name only on the first authorization; the app passes it along here.</summary>
public sealed record AppleSignInBody(string? IdToken, string? AuthorizationCode = null, string? FirstName = null, string? LastName = null);

/// <summary>Either the code of GitHub's OAuth redirect, or an access token the app obtained itself for our OAuth app.</summary>
public sealed record GitHubSignInBody(string? Code = null, string? AccessToken = null);

internal static class SocialRequestLimits
{
    /// <summary>Google and Apple ID tokens are 1–2 KB; the bound only keeps garbage out.</summary>
    public const int IdToken = 8192;

    public const int Code = 1024;

    public const int NamePart = 50;
}

public sealed class GoogleSignInBodyValidator : AbstractValidator<GoogleSignInBody>
{
    public GoogleSignInBodyValidator() => RuleFor(body => body.IdToken).NotEmpty().MaximumLength(SocialRequestLimits.IdToken);
}

public sealed class AppleSignInBodyValidator : AbstractValidator<AppleSignInBody>
{
    public AppleSignInBodyValidator()
    {
        RuleFor(body => body.IdToken).NotEmpty().MaximumLength(SocialRequestLimits.IdToken);
        RuleFor(body => body.AuthorizationCode).MaximumLength(SocialRequestLimits.Code);
        RuleFor(body => body.FirstName).MaximumLength(SocialRequestLimits.NamePart);
        RuleFor(body => body.LastName).MaximumLength(SocialRequestLimits.NamePart);
    }
}

public sealed class GitHubSignInBodyValidator : AbstractValidator<GitHubSignInBody>
{
    public GitHubSignInBodyValidator()
    {
        RuleFor(body => body.Code).NotEmpty().When(body => body.AccessToken is null);
        RuleFor(body => body.Code).MaximumLength(SocialRequestLimits.Code);
        RuleFor(body => body.AccessToken).MaximumLength(SocialRequestLimits.Code);
        RuleFor(body => body.AccessToken).Null().When(body => body.Code is not null).WithErrorCode("invalid");
    }
}
