using Apptork.Root.Admin.Purchases;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Admin.Pages;

/// <summary>One purchase for finance: what was bought and paid, where it stands at the provider, its ledger entries, and the refund form.</summary>
public sealed class PurchaseModel(RootDbContext db, Translations translations, PurchaseRefunds refunds) : AdminPageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    /// <summary>In the currency's minor unit, as the purchase's amount.</summary>
    [BindProperty]
    public long? Amount { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    /// <summary>The purchase's version when the form was shown (<see cref="PurchaseRefunds.Version"/>).</summary>
    [BindProperty]
    public long ExpectedVersion { get; set; }

    /// <summary>One per form shown: the refund's idempotency key, so a form submitted twice refunds once.</summary>
    [BindProperty]
    public Guid Nonce { get; set; }

    /// <summary>The values of <see cref="AdminPageModel.Error"/>'s text, when it has any.</summary>
    public object[] ErrorValues { get; private set; } = [];

    public Payment? Purchase { get; private set; }

    public string? BuyerEmail { get; private set; }

    public string? PackName { get; private set; }

    /// <summary>The entries the purchase caused: its credit, its reversals, and the shortfall booked for them.</summary>
    public IReadOnlyList<LedgerEntry> Entries { get; private set; } = [];

    public long Refundable => Purchase is null ? 0 : PurchaseRefunds.Refundable(Purchase);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Nonce = Guid.NewGuid();
        return await LoadAsync(cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostRefundAsync(CancellationToken cancellationToken)
    {
        if (!await db.Payments.AnyAsync(payment => payment.Id == Id, cancellationToken))
        {
            return NotFound();
        }

        var result = await refunds.RefundAsync(Id, Amount ?? 0, Reason, ExpectedVersion, Nonce, Actor, cancellationToken);
        (Error, ErrorValues) = (result.Error, result.Values);
        if (Error is null)
        {
            Notice = "PurchaseRefundedNotice";
            Amount = null;
            Reason = null;
            // A fresh form: the next refund is a new one, checked against the purchase as shown now.
            Nonce = Guid.NewGuid();
        }

        // A refused form keeps its nonce: sent again after a lost provider answer, it cannot refund twice.
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken cancellationToken)
    {
        Purchase = await db.Payments.AsNoTracking().SingleOrDefaultAsync(payment => payment.Id == Id, cancellationToken);
        if (Purchase is null)
        {
            return false;
        }

        var buyer = Purchase.UserId;
        BuyerEmail = await db.Users.AsNoTracking().Where(user => user.Id == buyer).Select(user => user.Email).SingleOrDefaultAsync(cancellationToken);
        PackName = (await translations.InCurrentCultureAsync([Purchase.PackId], cancellationToken))[Purchase.PackId];
        var reference = Purchase.LedgerReference;
        Entries = await db.LedgerEntries.AsNoTracking()
            .Where(entry => (entry.UserId == buyer || entry.UserId == SystemAccounts.Shortfall) && entry.Reference == reference)
            .OrderBy(entry => entry.Id).ToListAsync(cancellationToken);
        return true;
    }
}
