using Apptork.Root.Admin.Catalog;
using Apptork.Root.Admin.Security;
using Apptork.Root.Features.Messages;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// The messages the apps show: every staff member reads them; superusers write them, in every language the product
/// speaks, with their schedule and audience, through the API's own path.
/// </summary>
[ChangesNeedPolicy(AdminPolicies.Superuser)]
public sealed class MessagesModel(MessageEditor editor) : CatalogPageModel
{
    /// <summary>The API's field name of each form field that binds a number, a date or a switch.</summary>
    private static readonly Dictionary<string, string> FormNames = new()
    {
        ["Priority"] = "priority", ["StartsAt"] = "starts_at", ["EndsAt"] = "ends_at", ["Dismissible"] = "dismissible",
    };

    public IReadOnlyList<MessageAdminView> Messages { get; private set; } = [];

    public string? NextCursor { get; private set; }

    /// <summary>The message the form edits; null for a new one.</summary>
    [BindProperty(SupportsGet = true)]
    public Guid? Edit { get; set; }

    /// <summary>The message's version when the form was shown (see <see cref="MessageEditor.VersionOf"/>).</summary>
    [BindProperty]
    public long ExpectedVersion { get; set; }

    [BindProperty]
    public string Severity { get; set; } = MessageSeverities.Info;

    /// <summary>By language; read from the form by <see cref="CatalogPageModel.PostedTexts"/>.</summary>
    public Dictionary<string, string?> Title { get; set; } = [];

    /// <summary>By language; read from the form by <see cref="CatalogPageModel.PostedTexts"/>.</summary>
    public Dictionary<string, string?> BodyText { get; set; } = [];

    /// <summary>By language; read from the form by <see cref="CatalogPageModel.PostedTexts"/>.</summary>
    public Dictionary<string, string?> ActionLabel { get; set; } = [];

    [BindProperty]
    public string? ActionUrl { get; set; }

    [BindProperty]
    public DateTime? StartsAt { get; set; }

    [BindProperty]
    public DateTime? EndsAt { get; set; }

    [BindProperty]
    public List<string> Platforms { get; set; } = [];

    [BindProperty]
    public string SignInAudience { get; set; } = MessageSignIn.Everyone;

    [BindProperty]
    public List<string> Roles { get; set; } = [];

    [BindProperty]
    public string? MinAppVersion { get; set; }

    [BindProperty]
    public string? MaxAppVersion { get; set; }

    [BindProperty]
    public bool Dismissible { get; set; } = true;

    [BindProperty]
    public int? Priority { get; set; } = 0;

    protected override IReadOnlyDictionary<string, string> FieldLabels => new Dictionary<string, string>
    {
        ["severity"] = AdminTexts.Get("MessageSeverityLabel"),
        ["title"] = AdminTexts.Get("MessageTitleLabel"),
        ["body"] = AdminTexts.Get("MessageBodyLabel"),
        ["action"] = AdminTexts.Get("MessageActionLabel"),
        ["starts_at"] = AdminTexts.Get("StartsAtLabel"),
        ["ends_at"] = AdminTexts.Get("EndsAtLabel"),
        ["audience"] = AdminTexts.Get("MessageAudienceLabel"),
        ["dismissible"] = AdminTexts.Get("MessageDismissibleLabel"),
        ["priority"] = AdminTexts.Get("MessagePriorityLabel"),
    };

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        await LoadAsync(cursor, cancellationToken);
        if (Edit is { } id && await editor.FindAsync(id, cancellationToken) is { } message)
        {
            Fill(message);
        }
        else
        {
            Edit = null;
        }
    }

    public async Task OnPostSaveAsync(CancellationToken cancellationToken)
    {
        (Title, BodyText, ActionLabel) = (PostedTexts(nameof(Title)), PostedTexts(nameof(BodyText)), PostedTexts(nameof(ActionLabel)));
        if (!RefuseUnreadableFields(FormNames))
        {
            var body = Body();
            if (Edit is { } id)
            {
                Show(await editor.UpdateAsync(id, body, ExpectedVersion, Actor, cancellationToken), "MessageSavedNotice");
            }
            else
            {
                var (result, created) = await editor.CreateAsync(body, Actor, cancellationToken);
                if (Show(result, "MessageCreatedNotice"))
                {
                    Edit = created;
                }
            }
        }

        await LoadAsync(cursor: null, cancellationToken);
        // A saved form shows the message as stored now (and its new version); a refused one keeps what the operator typed.
        if (Error is null && Edit is { } shown && await editor.FindAsync(shown, cancellationToken) is { } saved)
        {
            Fill(saved);
        }
    }

    public async Task OnPostDeleteAsync(CancellationToken cancellationToken)
    {
        Show(await editor.DeleteAsync(Edit ?? Guid.Empty, ExpectedVersion, Actor, cancellationToken), "MessageDeletedNotice");
        Edit = null;
        ModelState.Clear();
        await LoadAsync(cursor: null, cancellationToken);
    }

    /// <summary>The form as the API's body: every field, so an edit replaces the message as the form shows it.</summary>
    private MessageBody Body()
    {
        var label = Written(ActionLabel);
        return new MessageBody
        {
            Severity = Severity,
            Title = Written(Title),
            Body = Written(BodyText),
            Action = string.IsNullOrWhiteSpace(ActionUrl) && label!.Count == 0 ? null : new MessageActionBody(label, ActionUrl?.Trim()),
            StartsAt = Utc(StartsAt),
            EndsAt = Utc(EndsAt),
            Audience = new MessageAudienceBody(
                Platforms, string.IsNullOrWhiteSpace(MinAppVersion) ? null : MinAppVersion.Trim(), string.IsNullOrWhiteSpace(MaxAppVersion) ? null : MaxAppVersion.Trim(),
                SignInAudience, Roles),
            Dismissible = Dismissible,
            Priority = Priority,
        };
    }

    private async Task LoadAsync(string? cursor, CancellationToken cancellationToken)
    {
        var page = await editor.PageAsync(cursor, cancellationToken);
        (Messages, NextCursor) = (page.Results, page.NextCursor);
    }

    private void Fill(MessageAdminView message)
    {
        ModelState.Clear();
        Edit = message.Id;
        ExpectedVersion = MessageEditor.VersionOf(message.UpdatedAt);
        Severity = message.Severity;
        Title = message.Title.ToDictionary(pair => pair.Key, pair => (string?)pair.Value);
        BodyText = message.Body.ToDictionary(pair => pair.Key, pair => (string?)pair.Value);
        ActionLabel = message.Action?.Label.ToDictionary(pair => pair.Key, pair => (string?)pair.Value) ?? [];
        ActionUrl = message.Action?.Url;
        StartsAt = message.StartsAt.UtcDateTime;
        EndsAt = message.EndsAt?.UtcDateTime;
        Platforms = [.. message.Audience.Platforms];
        SignInAudience = message.Audience.SignIn;
        Roles = [.. message.Audience.Roles];
        MinAppVersion = message.Audience.MinAppVersion;
        MaxAppVersion = message.Audience.MaxAppVersion;
        Dismissible = message.Dismissible;
        Priority = message.Priority;
    }
}
