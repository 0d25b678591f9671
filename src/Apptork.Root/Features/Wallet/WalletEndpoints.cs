using System.Globalization;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.OpenApi;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Platform.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.Wallet;

/// <summary>The signed-in user's credits: the balance, and the ledger entries that explain it.</summary>
public static class WalletEndpoints
{
    public static RouteGroupBuilder MapWalletEndpoints(this RouteGroupBuilder wallet)
    {
        wallet.WithTags("Wallet").RequireAuthorization();
        wallet.MapGet(string.Empty, GetWalletAsync)
            .WithName("wallet_get").WithSummary("Get the balance")
            .WithDescription("The user's credits (0 before their first credit): `balance`, of which `held` is set aside for generations under way (the most each can cost, until it ends), and `available` = balance − held, what a new generation can spend.");
        wallet.MapGet("/transactions", ListTransactionsAsync).Validate<TransactionFilter>()
            .ProducesErrors(ErrorCatalog.InvalidCursor)
            .WithName("wallet_transactions_list").WithSummary("List transactions")
            .WithDescription("The user's ledger entries, newest first; filters: kind, from (inclusive) and to (exclusive), ISO-8601 UTC.");
        return wallet;
    }

    private static async Task<Ok<WalletView>> GetWalletAsync(HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var wallet = await db.Wallets.AsNoTracking()
            .Where(candidate => candidate.UserId == userId)
            .Select(candidate => new WalletView(candidate.Balance, candidate.Held, candidate.Balance - candidate.Held, candidate.UpdatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return TypedResults.Ok(wallet ?? new WalletView(0, 0, 0, null));
    }

    private static async Task<Ok<CursorPage<TransactionView>>> ListTransactionsAsync(
        [AsParameters] TransactionFilter filter, PageRequest page, HttpContext context, RootDbContext db, CancellationToken cancellationToken)
    {
        var userId = context.User.UserId();
        var entries = db.LedgerEntries.AsNoTracking().Where(entry => entry.UserId == userId);
        if (filter.Kind is { } kindName && LedgerEntry.TryParseKind(kindName, out var kind))
        {
            entries = entries.Where(entry => entry.Kind == kind);
        }

        if (filter.From is { } fromText && TransactionFilter.TryParseInstant(fromText, out var from))
        {
            entries = entries.Where(entry => entry.CreatedAt >= from);
        }

        if (filter.To is { } toText && TransactionFilter.TryParseInstant(toText, out var to))
        {
            entries = entries.Where(entry => entry.CreatedAt < to);
        }

        return TypedResults.Ok(await entries.ToCursorPageAsync(
            page,
            entry => entry.Id,
            entry => new TransactionView(entry.Id, entry.Amount, entry.HeldChange, entry.BalanceAfter, entry.Kind, entry.Reference, entry.Memo, entry.CreatedAt),
            cancellationToken));
    }
}

/// <param name="Balance">Every credit the user has, held ones included.</param>
/// <param name="Held">Set aside for generations under way: the most each can cost, until it ends and is charged what it used.</param>
/// <param name="Available">Balance − held: what can be spent now. Show this one as the user's credits.</param>
public sealed record WalletView(long Balance, long Held, long Available, DateTimeOffset? UpdatedAt);

/// <param name="Amount">Credits added (positive) or taken (negative); 0 for a <c>hold</c> or a <c>release</c>.</param>
/// <param name="HeldChange">Credits set aside (a <c>hold</c>, positive) or no longer (a <c>release</c>, or the <c>generation</c> charge that settles a hold, negative); 0 otherwise.</param>
/// <param name="Reference">What caused it: <c>generation:{id}</c> links a generation's hold, charge and release.</param>
public sealed record TransactionView(
    long Id, long Amount, long HeldChange, long BalanceAfter, LedgerEntryKind Kind, string? Reference, string? Memo, DateTimeOffset CreatedAt);

/// <summary>
/// The list's filters from the query string, kept as text so that a bad value is a field error with its attr
/// (validated by <see cref="TransactionFilterValidator"/>) rather than a bare binding failure. Named as the API
/// writes them (snake_case) so that the OpenAPI document shows the names clients send; binding ignores case.
/// </summary>
public sealed record TransactionFilter(
    [FromQuery(Name = "kind")] string? Kind, [FromQuery(Name = "from")] string? From, [FromQuery(Name = "to")] string? To)
{
    /// <summary>An ISO-8601 date (midnight UTC) or date and time; without an offset, UTC.</summary>
    public static bool TryParseInstant(string text, out DateTimeOffset instant)
    {
        // Normalized to UTC: SQLite stores times as numbers that compare correctly only between UTC values.
        var parsed = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out instant);
        instant = instant.ToUniversalTime();
        return parsed;
    }
}

public sealed class TransactionFilterValidator : AbstractValidator<TransactionFilter>
{
    public TransactionFilterValidator()
    {
        RuleFor(filter => filter.Kind)
            .Must(kind => kind is null || LedgerEntry.TryParseKind(kind, out _))
            .WithErrorCode(ErrorCatalog.InvalidChoice.Code);
        RuleFor(filter => filter.From)
            .Must(from => from is null || TransactionFilter.TryParseInstant(from, out _))
            .WithErrorCode(ErrorCatalog.Invalid.Code);
        RuleFor(filter => filter.To)
            .Must((filter, to) => to is null || (TransactionFilter.TryParseInstant(to, out var end) && IsAfterFrom(filter.From, end)))
            .WithErrorCode(ErrorCatalog.Invalid.Code);
    }

    /// <summary>An empty window is a mistake the client should hear about; a bad <c>from</c> is reported on its own.</summary>
    private static bool IsAfterFrom(string? fromText, DateTimeOffset to) =>
        fromText is null || !TransactionFilter.TryParseInstant(fromText, out var from) || to > from;
}
