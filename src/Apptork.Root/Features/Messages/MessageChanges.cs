using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Messages;

/// <summary>
/// The one way messages change, for the API's operators and the admin screen alike: the row and its texts are saved
/// together, then announced (<see cref="MessageBoard"/>) so every process's apps see it within a second.
/// <c>beforeSave</c> lets a caller add its own rows (the admin's audit row) to the same save, after the change is applied.
/// </summary>
public sealed class MessageChanges(RootDbContext db, Translations translations, MessageBoard board, TimeProvider time)
{
    /// <summary>Creates a validated message, shown from now when it names no start.</summary>
    public async Task<Message> CreateAsync(MessageBody body, Guid changedBy, Action<Message>? beforeSave, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var message = new Message
        {
            Id = Guid.CreateVersion7(now), Severity = body.Severity!, StartsAt = now, CreatedBy = changedBy, CreatedAt = now, UpdatedBy = changedBy, UpdatedAt = now,
        };
        db.Messages.Add(message);
        await ApplyAsync(body, message, cancellationToken);
        await SaveAsync(message, beforeSave, cancellationToken);
        return message;
    }

    /// <summary>Changes the fields the body sends; missing: <c>not_found</c>; a schedule ending before it starts: <c>invalid</c> at <c>ends_at</c>.</summary>
    public async Task<Message> UpdateAsync(Guid id, MessageBody body, Guid changedBy, Action<Message>? beforeSave, CancellationToken cancellationToken)
    {
        var message = await db.Messages.SingleOrDefaultAsync(candidate => candidate.Id == id, cancellationToken) ?? throw ErrorCatalog.NotFound.ToException();
        await ApplyAsync(body, message, cancellationToken);
        message.UpdatedBy = changedBy;
        message.UpdatedAt = time.GetUtcNow();
        await SaveAsync(message, beforeSave, cancellationToken);
        return message;
    }

    /// <summary>Deletes a message, its texts and its dismissals; missing: <c>not_found</c>.</summary>
    public async Task DeleteAsync(Guid id, Action? beforeSave, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            // Its dismissals go with it (a cascading foreign key); its texts have no key to cascade from.
            if (await db.Messages.Where(message => message.Id == id).ExecuteDeleteAsync(cancellationToken) == 0)
            {
                throw ErrorCatalog.NotFound.ToException();
            }

            await translations.RemoveAllAsync(MessageTexts.Owner, id.ToString(), cancellationToken);
            if (beforeSave is not null)
            {
                beforeSave();
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await board.AnnounceAsync(id);
    }

    private async Task SaveAsync(Message message, Action<Message>? beforeSave, CancellationToken cancellationToken)
    {
        beforeSave?.Invoke(message);
        await db.SaveChangesAsync(cancellationToken);
        await board.AnnounceAsync(message.Id);
    }

    /// <summary>
    /// Copies the fields the body sends (all of them on create, as its validator requires), then checks what only the
    /// whole message can tell: a schedule that ends after it starts, whichever of the two this request changed.
    /// </summary>
    private async Task ApplyAsync(MessageBody body, Message message, CancellationToken cancellationToken)
    {
        var id = message.Id.ToString();
        message.Severity = body.Severity ?? message.Severity;
        message.StartsAt = body.StartsAt ?? message.StartsAt;
        if (body.ChangesEndsAt)
        {
            message.EndsAt = body.EndsAt;
        }

        if (message.EndsAt <= message.StartsAt)
        {
            throw ErrorCatalog.Invalid.ToException("ends_at");
        }

        message.Dismissible = body.Dismissible ?? message.Dismissible;
        message.Priority = body.Priority ?? message.Priority;
        if (body.Audience is { } audience)
        {
            message.Platforms = string.Join(',', (audience.Platforms ?? []).Distinct());
            message.MinAppVersion = audience.MinAppVersion;
            message.MaxAppVersion = audience.MaxAppVersion;
            message.SignIn = audience.SignIn ?? MessageSignIn.Everyone;
            message.Roles = string.Join(',', (audience.Roles ?? []).Distinct());
        }

        if (body.Title is { } title)
        {
            await translations.WriteAsync(MessageTexts.Owner, id, MessageTexts.Title, Validated(title), cancellationToken);
        }

        if (body.Body is { } text)
        {
            await translations.WriteAsync(MessageTexts.Owner, id, MessageTexts.Body, Validated(text), cancellationToken);
        }

        if (body.ChangesAction)
        {
            message.ActionUrl = body.Action?.Url;
            await translations.WriteAsync(
                MessageTexts.Owner, id, MessageTexts.ActionLabel, body.Action?.Label is { } label ? Validated(label) : new Dictionary<string, string>(), cancellationToken);
        }
    }

    /// <summary>A translated field its validator passed: every language has a text.</summary>
    private static Dictionary<string, string> Validated(IReadOnlyDictionary<string, string?> texts) =>
        texts.ToDictionary(pair => pair.Key, pair => pair.Value!);
}
