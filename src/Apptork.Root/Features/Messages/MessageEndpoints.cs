using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Apptork.Root.Features.Messages;

/// <summary>The apps' side of system messages: the current ones for this caller, in their language; and dismissing one.</summary>
public static class MessageEndpoints
{
    public static RouteGroupBuilder MapMessageEndpoints(this RouteGroupBuilder messages)
    {
        messages.WithTags("Messages");
        messages.MapGet(string.Empty, ListAsync).AcceptsOptionalToken()
            .Produces(StatusCodes.Status304NotModified)
            .WithName("messages_list").WithSummary("List the current messages")
            .WithDescription(
                "The messages shown now to this caller (by platform, X-App-Version, sign-in and role), not dismissed, highest priority then newest "
                + "first, in the Accept-Language's language or the nearest one each has. Cheap to poll on every foreground: send the last ETag "
                + "as If-None-Match and a 304 says nothing changed.");
        messages.MapPost("/{id:guid}/dismiss", DismissAsync).AcceptsOptionalToken()
            .ProducesErrors(ErrorCatalog.NotFound, ErrorCatalog.NotDismissible, ErrorCatalog.DeviceIdRequired)
            .WithName("messages_dismiss").WithSummary("Dismiss a message")
            .WithDescription(
                "Hides a dismissible message from this user for good, or, for an anonymous caller, from this device (X-Device-Id). "
                + "Dismissing again changes nothing.");
        return messages;
    }

    private static async Task<Results<Ok<MessageList>, StatusCodeHttpResult>> ListAsync(
        HttpContext context, MessageBoard board, RootDbContext db, TimeProvider time, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
        CancellationToken cancellationToken)
    {
        var caller = MessageCaller.From(context);
        var now = time.GetUtcNow();
        var shown = (await board.CurrentAsync(cancellationToken)).Where(message => message.IsShownTo(caller, now)).ToList();
        var dismissible = shown.Where(message => message.Message.Dismissible).Select(message => message.Message.Id).ToList();
        if (caller.Dismisser is { } dismisser && dismissible.Count > 0)
        {
            var dismissed = await db.MessageDismissals.AsNoTracking()
                .Where(dismissal => dismissal.Dismisser == dismisser && dismissible.Contains(dismissal.MessageId))
                .Select(dismissal => dismissal.MessageId)
                .ToListAsync(cancellationToken);
            shown.RemoveAll(message => dismissed.Contains(message.Message.Id));
        }

        var culture = CultureInfo.CurrentUICulture;
        var list = new MessageList(shown.Select(message => MessageView.Of(message, culture)).ToList());
        var headers = context.Response.Headers;
        // The languages that answered, in the order of the messages; with no message, the request's own (set by localization).
        if (list.Results.Count > 0)
        {
            headers.ContentLanguage = string.Join(", ", list.Results.Select(message => message.Language).Distinct(StringComparer.OrdinalIgnoreCase));
        }

        // Everything the answer depends on is in its bytes and its language: the same bytes, the same tag.
        var answer = Encoding.UTF8.GetBytes(headers.ContentLanguage.ToString()).Concat(JsonSerializer.SerializeToUtf8Bytes(list, json.Value.SerializerOptions));
        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(answer.ToArray()))[..32]}\"");
        headers.ETag = etag.ToString();
        headers.CacheControl = "private, no-cache";
        headers.Vary = "Accept-Language, Authorization, X-Platform, X-App-Version, X-Device-Id";
        var ifNoneMatch = context.Request.GetTypedHeaders().IfNoneMatch;
        return ifNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: false))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(list);
    }

    /// <summary>A message this caller is not shown (unknown, ended, another audience's) is 404, like a missing one.</summary>
    private static async Task<NoContent> DismissAsync(Guid id, HttpContext context, MessageBoard board, RootDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = MessageCaller.From(context);
        var dismisser = caller.Dismisser ?? throw ErrorCatalog.DeviceIdRequired.ToException();
        var now = time.GetUtcNow();
        var message = (await board.CurrentAsync(cancellationToken)).FirstOrDefault(candidate => candidate.Message.Id == id && candidate.IsShownTo(caller, now))
            ?? throw ErrorCatalog.NotFound.ToException();
        if (!message.Message.Dismissible)
        {
            throw ErrorCatalog.NotDismissible.ToException();
        }

        if (!await db.MessageDismissals.AnyAsync(dismissal => dismissal.MessageId == id && dismissal.Dismisser == dismisser, cancellationToken))
        {
            db.MessageDismissals.Add(new MessageDismissal { MessageId = id, Dismisser = dismisser, DismissedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
            {
                // The same caller's concurrent dismissal came first: the outcome is the same.
            }
            catch (DbUpdateException exception) when (DatabaseErrors.IsForeignKeyViolation(exception))
            {
                // Deleted since this process last read the messages: it is gone for everyone.
                throw ErrorCatalog.NotFound.ToException();
            }
        }

        return TypedResults.NoContent();
    }
}

public sealed record MessageList(IReadOnlyList<MessageView> Results);

/// <summary>A message as an app shows it; <c>language</c> is the one its title answered in.</summary>
public sealed record MessageView(
    Guid Id, string Severity, string Title, string Body, MessageActionView? Action, DateTimeOffset StartsAt, DateTimeOffset? EndsAt,
    bool Dismissible, int Priority, string Language)
{
    public static MessageView Of(LiveMessage live, CultureInfo culture)
    {
        var message = live.Message;
        var (title, language) = live.Title.In(culture);
        var action = message.ActionUrl is { } url ? new MessageActionView(live.ActionLabel.In(culture).Text, url) : null;
        return new MessageView(message.Id, message.Severity, title, live.Body.In(culture).Text, action, message.StartsAt, message.EndsAt, message.Dismissible, message.Priority, language);
    }
}

public sealed record MessageActionView(string Label, string Url);
