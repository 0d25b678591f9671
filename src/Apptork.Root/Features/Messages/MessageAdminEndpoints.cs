using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// The operators' side of system messages, under the staff-only <c>/admin</c> group: every change records who made it and
/// when, and is announced to every process, whose apps see it within a second.
/// </summary>
public static class MessageAdminEndpoints
{
    public static RouteGroupBuilder MapMessageAdminEndpoints(this RouteGroupBuilder messages)
    {
        messages.WithTags("Admin messages");
        messages.MapGet(string.Empty, ListAsync)
            .ProducesErrors(ErrorCatalog.InvalidCursor)
            .WithName("admin_messages_list").WithSummary("List messages")
            .WithDescription("Every message, past, current and scheduled, newest first, with its texts in every language.");
        messages.MapGet("/{id:guid}", GetAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("admin_messages_get").WithSummary("Get a message")
            .WithDescription("A message with its texts in every language, its audience and who changed it last.");
        messages.MapPost(string.Empty, CreateAsync).Validate<MessageBody>()
            .WithName("admin_messages_create").WithSummary("Create a message")
            .WithDescription(
                "Creates a message: translated title and body (`en` required), an optional action, a schedule (from now when starts_at "
                + "is left out) and an audience (everyone when left out). Apps see it within a second.");
        messages.MapPatch("/{id:guid}", UpdateAsync).Validate<MessagePatch>()
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("admin_messages_update").WithSummary("Update a message")
            .WithDescription(
                "Changes the fields sent: a translated field or the audience is replaced as a whole; a null action or ends_at removes it.");
        messages.MapDelete("/{id:guid}", DeleteAsync)
            .ProducesErrors(ErrorCatalog.NotFound)
            .WithName("admin_messages_delete").WithSummary("Delete a message")
            .WithDescription("Deletes a message, its texts and its dismissals; apps stop showing it within a second.");
        return messages;
    }

    private static async Task<Ok<CursorPage<MessageAdminView>>> ListAsync(PageRequest page, RootDbContext db, Translations translations, CancellationToken cancellationToken)
    {
        var rows = await db.Messages.AsNoTracking().ToCursorPageAsync(page, message => message.CreatedAt, message => message.Id, message => message, cancellationToken);
        var texts = await translations.ReadAsync(MessageTexts.Owner, rows.Results.Select(message => message.Id.ToString()).ToList(), cancellationToken);
        return TypedResults.Ok(new CursorPage<MessageAdminView>(rows.Results.Select(message => MessageAdminView.Of(message, texts)).ToList(), rows.NextCursor));
    }

    private static async Task<Ok<MessageAdminView>> GetAsync(Guid id, RootDbContext db, Translations translations, CancellationToken cancellationToken)
    {
        var message = await db.Messages.AsNoTracking().SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken)
            ?? throw ErrorCatalog.NotFound.ToException();
        return TypedResults.Ok(await ViewAsync(message, translations, cancellationToken));
    }

    private static async Task<Created<MessageAdminView>> CreateAsync(
        MessageBody body, HttpContext context, MessageChanges changes, Translations translations, CancellationToken cancellationToken)
    {
        var message = await changes.CreateAsync(body, context.User.UserId(), beforeSave: null, cancellationToken);
        return TypedResults.Created($"/api/v1/admin/messages/{message.Id}", await ViewAsync(message, translations, cancellationToken));
    }

    private static async Task<Ok<MessageAdminView>> UpdateAsync(
        Guid id, MessagePatch body, HttpContext context, MessageChanges changes, Translations translations, CancellationToken cancellationToken)
    {
        var message = await changes.UpdateAsync(id, body, context.User.UserId(), beforeSave: null, cancellationToken);
        return TypedResults.Ok(await ViewAsync(message, translations, cancellationToken));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, MessageChanges changes, CancellationToken cancellationToken)
    {
        await changes.DeleteAsync(id, beforeSave: null, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<MessageAdminView> ViewAsync(Message message, Translations translations, CancellationToken cancellationToken) =>
        MessageAdminView.Of(message, await translations.ReadAsync(MessageTexts.Owner, [message.Id.ToString()], cancellationToken));
}
