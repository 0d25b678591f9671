using System.Text.Json;
using System.Text.Json.Serialization;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using FluentValidation;
using FluentValidation.Results;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// A message as an operator writes it: <c>{"title": {"en": "...", "pt-BR": "..."}, "body": {...}, "action": {"label":
/// {...}, "url": "..."}, ...}</c>. On create, severity, title and body are required; see <see cref="MessagePatch"/>.
/// </summary>
public record MessageBody
{
    private readonly MessageActionBody? action;
    private readonly DateTimeOffset? endsAt;

    /// <summary><c>info</c>, <c>warning</c> or <c>critical</c>.</summary>
    public string? Severity { get; init; }

    public IReadOnlyDictionary<string, string?>? Title { get; init; }

    public IReadOnlyDictionary<string, string?>? Body { get; init; }

    /// <summary>A button: its translated label and where it leads (an http(s) URL or an app deep link, <c>myapp://orders</c>).</summary>
    public MessageActionBody? Action
    {
        get => action;
        init
        {
            action = value;
            ChangesAction = true;
        }
    }

    /// <summary>When it starts being shown; now when left out on create.</summary>
    public DateTimeOffset? StartsAt { get; init; }

    /// <summary>When it stops being shown, after starts_at; never when null.</summary>
    public DateTimeOffset? EndsAt
    {
        get => endsAt;
        init
        {
            endsAt = value;
            ChangesEndsAt = true;
        }
    }

    /// <summary>Who is shown it; everyone when left out on create.</summary>
    public MessageAudienceBody? Audience { get; init; }

    /// <summary>Whether apps may let the user dismiss it (default true).</summary>
    public bool? Dismissible { get; init; }

    /// <summary>From 0 to 1000, higher first (default 0).</summary>
    public int? Priority { get; init; }

    /// <summary>Whether the body names <c>action</c> at all: null there removes the action.</summary>
    [JsonIgnore]
    public bool ChangesAction { get; private init; }

    /// <summary>Whether the body names <c>ends_at</c> at all: null there means "never ends".</summary>
    [JsonIgnore]
    public bool ChangesEndsAt { get; private init; }

    /// <summary>Any other key: refused by name rather than dropped.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Unknown { get; init; }
}

/// <summary>A change to a message: only the fields sent change; a translated field or the audience is replaced as a whole.</summary>
public sealed record MessagePatch : MessageBody;

public sealed record MessageActionBody(IReadOnlyDictionary<string, string?>? Label, string? Url);

/// <param name="Platforms"><c>ios</c>, <c>android</c>, <c>web</c>; every platform when empty.</param>
/// <param name="MinAppVersion">The lowest X-App-Version shown to, inclusive (semantic-version order).</param>
/// <param name="MaxAppVersion">The highest X-App-Version shown to, inclusive. With either bound, a caller without a readable version is not shown it.</param>
/// <param name="SignIn"><c>everyone</c> (default), <c>signed_in</c> or <c>anonymous</c>.</param>
/// <param name="Roles"><c>free</c>, <c>premium</c>, <c>staff</c>: signed-in users of these roles only; every caller when empty.</param>
public sealed record MessageAudienceBody(
    IReadOnlyList<string>? Platforms = null, string? MinAppVersion = null, string? MaxAppVersion = null, string? SignIn = null, IReadOnlyList<string>? Roles = null);

public sealed class MessageBodyValidator : MessageBodyRules<MessageBody>
{
    public MessageBodyValidator()
        : base(creating: true)
    {
    }
}

public sealed class MessagePatchValidator : MessageBodyRules<MessagePatch>
{
    public MessagePatchValidator()
        : base(creating: false)
    {
    }
}

public abstract class MessageBodyRules<T> : AbstractValidator<T>
    where T : MessageBody
{
    protected MessageBodyRules(bool creating)
    {
        if (creating)
        {
            RuleFor(body => body.Severity).NotNull();
            RuleFor(body => body.Title).NotNull();
            RuleFor(body => body.Body).NotNull();
        }

        RuleFor(body => body.Severity).Must(severity => severity is null || MessageSeverities.All.Contains(severity)).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleFor(body => body.Title).Translated(MessageTexts.MaxTitleLength);
        RuleFor(body => body.Body).Translated(MessageTexts.MaxBodyLength);
        RuleFor(body => body.Action!).SetValidator(new MessageActionValidator()).When(body => body.Action is not null);
        RuleFor(body => body.Audience!).SetValidator(new MessageAudienceValidator()).When(body => body.Audience is not null);
        RuleFor(body => body.Priority).GreaterThanOrEqualTo(Message.MinPriority).LessThanOrEqualTo(Message.MaxPriority);
        RuleFor(body => body.EndsAt).Must((body, endsAt) => body.StartsAt is null || endsAt is null || endsAt > body.StartsAt)
            .WithErrorCode(ErrorCatalog.Invalid.Code);
        RuleFor(body => body.Unknown).Custom((unknown, context) =>
        {
            foreach (var key in unknown?.Keys ?? Enumerable.Empty<string>())
            {
                context.AddFailure(new ValidationFailure(key, "Unknown field.") { ErrorCode = ErrorCatalog.UnknownField.Code });
            }
        });
    }
}

public sealed class MessageActionValidator : AbstractValidator<MessageActionBody>
{
    private static readonly HashSet<string> ScriptSchemes = new(StringComparer.OrdinalIgnoreCase) { "javascript", "vbscript", "data", "file" };

    public MessageActionValidator()
    {
        RuleFor(action => action.Label).NotNull().Translated(MessageTexts.MaxActionLabelLength);
        RuleFor(action => action.Url).NotEmpty().MaximumLength(Message.MaxUrlLength)
            .Must(url => url is null || IsLink(url)).WithErrorCode(ErrorCatalog.Invalid.Code);
    }

    /// <summary>An absolute http(s) URL with a host, or an app deep link <c>scheme://...</c>; never a script or a local file.</summary>
    public static bool IsLink(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || ScriptSchemes.Contains(uri.Scheme) || url.Any(char.IsWhiteSpace))
        {
            return false;
        }

        return uri.Scheme is "http" or "https"
            ? uri.Host.Length > 0
            : url.StartsWith($"{uri.Scheme}://", StringComparison.OrdinalIgnoreCase);
    }
}

public sealed class MessageAudienceValidator : AbstractValidator<MessageAudienceBody>
{
    public MessageAudienceValidator()
    {
        RuleForEach(audience => audience.Platforms).Must(platform => MessagePlatforms.All.Contains(platform)).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleForEach(audience => audience.Roles).Must(role => MessageRoles.All.Contains(role)).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        // Roles are signed-in users': with anonymous callers only, the message would reach nobody.
        RuleFor(audience => audience.Roles).Must((audience, roles) => roles is not { Count: > 0 } || audience.SignIn != MessageSignIn.Anonymous)
            .WithErrorCode(ErrorCatalog.Invalid.Code);
        RuleFor(audience => audience.SignIn).Must(signIn => signIn is null || MessageSignIn.All.Contains(signIn)).WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleFor(audience => audience.MinAppVersion).AppVersion();
        RuleFor(audience => audience.MaxAppVersion).AppVersion().NotBelow(audience => audience.MinAppVersion);
    }
}

/// <summary>A message as operators manage it: its texts in every language, its audience, who changed it last and when.</summary>
public sealed record MessageAdminView(
    Guid Id, string Severity, IReadOnlyDictionary<string, string> Title, IReadOnlyDictionary<string, string> Body, MessageAdminActionView? Action,
    DateTimeOffset StartsAt, DateTimeOffset? EndsAt, MessageAudienceView Audience, bool Dismissible, int Priority,
    Guid CreatedBy, DateTimeOffset CreatedAt, Guid UpdatedBy, DateTimeOffset UpdatedAt)
{
    public static MessageAdminView Of(Message message, TranslatedFields texts)
    {
        var id = message.Id.ToString();
        var action = message.ActionUrl is { } url ? new MessageAdminActionView(texts.Get(id, MessageTexts.ActionLabel).ByLanguage, url) : null;
        var audience = new MessageAudienceView(
            Split(message.Platforms), message.MinAppVersion, message.MaxAppVersion, message.SignIn, Split(message.Roles));
        return new MessageAdminView(
            message.Id, message.Severity, texts.Get(id, MessageTexts.Title).ByLanguage, texts.Get(id, MessageTexts.Body).ByLanguage, action,
            message.StartsAt, message.EndsAt, audience, message.Dismissible, message.Priority,
            message.CreatedBy, message.CreatedAt, message.UpdatedBy, message.UpdatedAt);
    }

    private static string[] Split(string values) => values.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

public sealed record MessageAdminActionView(IReadOnlyDictionary<string, string> Label, string Url);

public sealed record MessageAudienceView(IReadOnlyList<string> Platforms, string? MinAppVersion, string? MaxAppVersion, string SignIn, IReadOnlyList<string> Roles);
