using Apptork.Root.Admin.Audit;
using Apptork.Root.Features.Messages;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Catalog;

/// <summary>
/// The messages screen's changes: validated by the API's own validator, applied through <see cref="MessageChanges"/>
/// (the API's path, which announces them to every process), each with its audit row in the same save. A form shown
/// before the message last changed (its <see cref="Message.UpdatedAt"/>) is refused and changes nothing.
/// </summary>
public sealed class MessageEditor(RootDbContext db, Translations translations, MessageChanges changes, AdminAudit audit, IValidator<MessageBody> validator)
{
    public const int PageSize = 50;

    /// <summary>Newest first; a cursor that is not this list's starts again from the first page.</summary>
    public async Task<CursorPage<MessageAdminView>> PageAsync(string? cursor, CancellationToken cancellationToken)
    {
        var page = new PageRequest(PageSize, cursor is null ? null : Cursor.Decode(cursor) as CreatedKey);
        var rows = await db.Messages.AsNoTracking().ToCursorPageAsync(page, message => message.CreatedAt, message => message.Id, message => message, cancellationToken);
        var texts = await translations.ReadAsync(MessageTexts.Owner, rows.Results.Select(message => message.Id.ToString()).ToList(), cancellationToken);
        return new CursorPage<MessageAdminView>(rows.Results.Select(message => MessageAdminView.Of(message, texts)).ToList(), rows.NextCursor);
    }

    public async Task<MessageAdminView?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var message = await db.Messages.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken);
        return message is null ? null : MessageAdminView.Of(message, await translations.ReadAsync(MessageTexts.Owner, [id.ToString()], cancellationToken));
    }

    /// <summary>The version a form carries: the instant of the message's last change, exactly as stored.</summary>
    public static long VersionOf(DateTimeOffset updatedAt) => updatedAt.UtcTicks;

    /// <summary>Creates the message; its id when done.</summary>
    public async Task<(CatalogResult Result, Guid? Id)> CreateAsync(MessageBody body, AuditActor actor, CancellationToken cancellationToken)
    {
        if (await RefusedAsync(body, cancellationToken) is { } refused)
        {
            return (refused, null);
        }

        try
        {
            var message = await changes.CreateAsync(
                body, actor.StaffId ?? Guid.Empty,
                created => audit.Record(actor, AdminActions.MessageCreated, Target(created.Id), before: null, AuditState.Changes(null, State(created, body)).After),
                cancellationToken);
            return (CatalogResult.Done, message.Id);
        }
        catch (ApiException exception)
        {
            return (CatalogResult.Invalid(exception.Errors), null);
        }
    }

    /// <summary>Replaces every field of the message with the form's.</summary>
    public async Task<CatalogResult> UpdateAsync(Guid id, MessageBody body, long expectedVersion, AuditActor actor, CancellationToken cancellationToken)
    {
        if (await RefusedAsync(body, cancellationToken) is { } refused)
        {
            return refused;
        }

        var current = await FindAsync(id, cancellationToken);
        if (current is null || VersionOf(current.UpdatedAt) != expectedVersion)
        {
            return CatalogResult.Refused("ErrorCatalogStale");
        }

        var before = State(current);
        try
        {
            await changes.UpdateAsync(id, body, actor.StaffId ?? Guid.Empty, changed =>
            {
                var (beforeChanges, afterChanges) = AuditState.Changes(before, State(changed, body));
                audit.Record(actor, AdminActions.MessageUpdated, Target(id), beforeChanges, afterChanges);
            }, cancellationToken);
        }
        catch (ApiException exception)
        {
            return CatalogResult.Invalid(exception.Errors);
        }

        return CatalogResult.Done;
    }

    public async Task<CatalogResult> DeleteAsync(Guid id, long expectedVersion, AuditActor actor, CancellationToken cancellationToken)
    {
        var current = await FindAsync(id, cancellationToken);
        if (current is null || VersionOf(current.UpdatedAt) != expectedVersion)
        {
            return CatalogResult.Refused("ErrorCatalogStale");
        }

        var before = AuditState.Changes(State(current), null).Before;
        try
        {
            await changes.DeleteAsync(id, () => audit.Record(actor, AdminActions.MessageDeleted, Target(id), before, after: null), cancellationToken);
        }
        catch (ApiException)
        {
            return CatalogResult.Refused("ErrorCatalogStale");
        }

        return CatalogResult.Done;
    }

    private async Task<CatalogResult?> RefusedAsync(MessageBody body, CancellationToken cancellationToken)
    {
        var validation = await validator.ValidateAsync(body, cancellationToken);
        return validation.IsValid ? null : CatalogResult.Invalid(validation.Errors.Select(ValidationFilter<object>.ToApiError).ToList());
    }

    private static string Target(Guid id) => $"message:{id}";

    private static Dictionary<string, object?> State(MessageAdminView message) => State(
        message.Severity, message.Title, message.Body, message.Action?.Label, message.Action?.Url, message.StartsAt, message.EndsAt,
        message.Audience.Platforms, message.Audience.MinAppVersion, message.Audience.MaxAppVersion, message.Audience.SignIn, message.Audience.Roles,
        message.Dismissible, message.Priority);

    /// <summary>The message as the form leaves it: its row as applied, its texts as the form wrote them.</summary>
    private static Dictionary<string, object?> State(Message message, MessageBody body) => State(
        message.Severity, Texts(body.Title), Texts(body.Body), body.Action is null ? null : Texts(body.Action.Label), message.ActionUrl, message.StartsAt,
        message.EndsAt, Split(message.Platforms), message.MinAppVersion, message.MaxAppVersion, message.SignIn, Split(message.Roles), message.Dismissible,
        message.Priority);

    private static Dictionary<string, object?> State(
        string severity, IReadOnlyDictionary<string, string> title, IReadOnlyDictionary<string, string> body, IReadOnlyDictionary<string, string>? actionLabel,
        string? actionUrl, DateTimeOffset startsAt, DateTimeOffset? endsAt, IReadOnlyList<string> platforms, string? minAppVersion, string? maxAppVersion,
        string signIn, IReadOnlyList<string> roles, bool dismissible, int priority) => new()
    {
        ["severity"] = severity,
        ["title"] = AuditState.Texts(title),
        ["body"] = AuditState.Texts(body),
        ["action_label"] = AuditState.Texts(actionLabel),
        ["action_url"] = actionUrl,
        ["starts_at"] = startsAt,
        ["ends_at"] = endsAt,
        ["platforms"] = platforms.Order(StringComparer.Ordinal).ToList(),
        ["min_app_version"] = minAppVersion,
        ["max_app_version"] = maxAppVersion,
        ["sign_in"] = signIn,
        ["roles"] = roles.Order(StringComparer.Ordinal).ToList(),
        ["dismissible"] = dismissible,
        ["priority"] = priority,
    };

    private static Dictionary<string, string> Texts(IReadOnlyDictionary<string, string?>? byLanguage) =>
        (byLanguage ?? new Dictionary<string, string?>()).ToDictionary(
            pair => TranslatedText.CanonicalLanguage(pair.Key) ?? pair.Key, pair => pair.Value ?? string.Empty);

    private static string[] Split(string values) => values.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
