using Apptork.Root.Admin.Wallets;
using Microsoft.AspNetCore.Mvc;

namespace Apptork.Root.Admin.Pages;

/// <summary>A user's wallet, for finance and superusers: find the user, see the balance, adjust it with a reason.</summary>
public sealed class WalletModel(WalletAdjustments adjustments) : AdminPageModel
{
    /// <summary>The user looked up: an id or an email.</summary>
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? Query { get; set; }

    [BindProperty]
    public Guid UserId { get; set; }

    [BindProperty]
    public long ExpectedBalance { get; set; }

    /// <summary>One per form shown: the adjustment's idempotency key, so a form submitted twice posts once.</summary>
    [BindProperty]
    public Guid Nonce { get; set; }

    [BindProperty]
    public long? Amount { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public WalletView? Found { get; private set; }

    /// <summary>The balance could not cover the debit: shown with the API's own insufficient-credit text.</summary>
    public bool CreditRefused { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Found = await adjustments.FindAsync(Query, cancellationToken);
        Error = Query is not null && Found is null ? "ErrorUserNotFound" : null;
        Nonce = Guid.NewGuid();
    }

    public async Task OnPostAdjustAsync(CancellationToken cancellationToken)
    {
        var result = await adjustments.AdjustAsync(UserId, Amount ?? 0, Reason, ExpectedBalance, Nonce, Actor, cancellationToken);
        Error = result.Error;
        CreditRefused = result.CreditRefused;
        Found = await adjustments.FindAsync(UserId.ToString(), cancellationToken);
        Query = Found?.Email ?? UserId.ToString();
        if (Error is null && !CreditRefused)
        {
            Notice = "WalletAdjustedNotice";
            Amount = null;
            Reason = null;
        }

        // A fresh form: the next adjustment is a new one, checked against the balance shown now.
        Nonce = Guid.NewGuid();
    }
}
