using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Apptork.Root.Platform.OpenApi;

/// <summary>
/// Describes every tag and lists them in the order an app developer meets them: signing in first, the webhook
/// (called by a provider, never by an app) last. Reference viewers and generated clients follow this order.
/// </summary>
public sealed class TagsTransformer : IOpenApiDocumentTransformer
{
    /// <summary>The tag of operations a provider's servers call, never an app.</summary>
    public const string Webhooks = "Webhooks";

    private static readonly (string Name, string Description)[] Described =
    [
        ("Auth", "Signing in (email code, Google, Apple, GitHub), tokens and sessions, and the signed-in user's account. Start here: most other operations need the access token these return."),
        ("Wallet", "The user's balance in credits, and the ledger entries that explain it."),
        ("Checkout", "The credit packs on sale, and buying one through the payment provider."),
        ("Purchases", "In-app purchases: a pack bought in the App Store or Google Play, sent here to be verified with the store and credited once."),
        ("Files", "Uploads straight to storage, and reading files back through short-lived URLs."),
        ("Generations", "AI text and image generations: paid in credits when created, run in the background, refunded once if they finally fail."),
        ("Feature flags", "Which features are on for the calling app (polled with an ETag), and, for staff, managing the flags live."),
        ("Messages", "System messages operators broadcast to the apps (maintenance, outages, updates), for this caller and in their language; poll with If-None-Match."),
        ("Admin messages", "Staff only: writing the system messages, their translations, schedules and audiences."),
        (Webhooks, "Called by the payment provider and the stores, not by apps: signed event deliveries."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var used = document.Tags ?? new HashSet<OpenApiTag>();
        var ordered = Described.Select(tag => new OpenApiTag { Name = tag.Name, Description = tag.Description }).ToList();
        // A tag nobody described yet still appears (after the rest), so the document never drops an operation's tag.
        ordered.AddRange(used.Where(tag => Described.All(described => described.Name != tag.Name)));
        document.Tags = new HashSet<OpenApiTag>(ordered);
        return Task.CompletedTask;
    }
}
