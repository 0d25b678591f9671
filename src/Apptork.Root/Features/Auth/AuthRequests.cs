using System.Text.Json;
using System.Text.Json.Serialization;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using FluentValidation.Results;

namespace Apptork.Root.Features.Auth;

public sealed record OtpRequestBody(string? Email);

public sealed record OtpVerifyBody(string? OtpToken, string? Code);

public sealed record RefreshTokenBody(string? RefreshToken);

/// <summary>
/// Fields left out (or null) stay as they are; an empty display name clears it. The defaults make both fields
/// optional in the OpenAPI schema, as a PATCH with one of them is valid.
/// </summary>
public sealed record UpdateMeBody(string? DisplayName = null, string? Locale = null)
{
    private readonly Guid? avatarFileId;

    /// <summary>One of the user's image files; null removes the avatar, and left out it stays.</summary>
    public Guid? AvatarFileId
    {
        get => avatarFileId;
        init
        {
            avatarFileId = value;
            ChangesAvatar = true;
        }
    }

    /// <summary>Whether the body names <c>avatar_file_id</c> at all: null there means "remove", unlike the other fields.</summary>
    [JsonIgnore]
    public bool ChangesAvatar { get; private init; }

    /// <summary>Any other key: refused by name rather than dropped, so a client never believes a misspelled field was saved.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

public sealed class OtpRequestBodyValidator : AbstractValidator<OtpRequestBody>
{
    public OtpRequestBodyValidator() => RuleFor(body => body.Email).NotEmpty().MaximumLength(254);
}

public sealed class OtpVerifyBodyValidator : AbstractValidator<OtpVerifyBody>
{
    public OtpVerifyBodyValidator()
    {
        RuleFor(body => body.OtpToken).NotEmpty().MaximumLength(100);
        RuleFor(body => body.Code).NotEmpty().Matches("^[0-9]{6}$").WithErrorCode("invalid");
    }
}

public sealed class RefreshTokenBodyValidator : AbstractValidator<RefreshTokenBody>
{
    public RefreshTokenBodyValidator() => RuleFor(body => body.RefreshToken).NotEmpty().MaximumLength(200);
}

public sealed class UpdateMeBodyValidator : AbstractValidator<UpdateMeBody>
{
    public UpdateMeBodyValidator()
    {
        RuleFor(body => body.DisplayName).MaximumLength(100).DisplayableText();
        RuleFor(body => body.Locale)
            .Must(locale => locale is null || LocalizationSetup.SupportedCultures.Any(culture => culture.Name == locale))
            .WithErrorCode("invalid_choice");
        RuleFor(body => body.Unknown).Custom((unknown, context) =>
        {
            foreach (var key in unknown?.Keys ?? Enumerable.Empty<string>())
            {
                context.AddFailure(new ValidationFailure(key, "Unknown field.") { ErrorCode = ErrorCatalog.UnknownField.Code });
            }
        });
    }
}
