using Apptork.Root.Admin.Wallets;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>Purchases for finance and superusers, newest first by keyset, filtered by user, status and provider.</summary>
public sealed class PurchasesModel(RootDbContext db, WalletAdjustments wallets) : AdminPageModel
{
    public const int PageSize = 50;

    /// <summary>A user's id or email; empty for every user.</summary>
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? Buyer { get; set; }

    [BindProperty(SupportsGet = true, Name = "status")]
    public PaymentStatus? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "provider")]
    public PaymentProvider? Provider { get; set; }

    public IReadOnlyList<Payment> Results { get; private set; } = [];

    /// <summary>The buyers' addresses, by user id.</summary>
    public IReadOnlyDictionary<Guid, string?> Emails { get; private set; } = new Dictionary<Guid, string?>();

    public string? NextCursor { get; private set; }

    /// <summary>A status or provider as the API writes it (<c>partially_refunded</c>), the word operators meet in the API and logs.</summary>
    public static string Code(Enum value) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>An amount in minor units with its currency, as the detail page and the list show it (<c>499 USD</c>: cents, not dollars).</summary>
    public static string Money(long amount, string currency) => $"{amount.ToString(System.Globalization.CultureInfo.CurrentCulture)} {currency.ToUpperInvariant()}";

    public async Task OnGetAsync(string? cursor, CancellationToken cancellationToken)
    {
        var payments = db.Payments.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(Buyer))
        {
            if (await wallets.FindAsync(Buyer, cancellationToken) is not { } buyer)
            {
                Error = "ErrorUserNotFound";
                return;
            }

            payments = payments.Where(payment => payment.UserId == buyer.UserId);
        }

        if (Status is { } status)
        {
            payments = payments.Where(payment => payment.Status == status);
        }

        if (Provider is { } provider)
        {
            payments = payments.Where(payment => payment.Provider == provider);
        }

        // A cursor that is not this list's starts again from the first page.
        var after = cursor is null ? null : Cursor.Decode(cursor) as CreatedKey;
        var page = await payments.ToCursorPageAsync(new PageRequest(PageSize, after), payment => payment.CreatedAt, payment => payment.Id, payment => payment, cancellationToken);
        (Results, NextCursor) = (page.Results, page.NextCursor);
        var buyers = Results.Select(payment => payment.UserId).Distinct().ToList();
        Emails = await db.Users.AsNoTracking().Where(user => buyers.Contains(user.Id)).ToDictionaryAsync(user => user.Id, user => user.Email, cancellationToken);
        Notice = Results.Count == 0 ? "PurchasesNoneFound" : null;
    }
}
