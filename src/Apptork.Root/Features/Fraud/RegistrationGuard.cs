using System.Security.Cryptography;
using System.Text;
using Apptork.Root.Features.Auth;
using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Features.Fraud;

/// <summary>The outcome of <see cref="RegistrationGuard.CheckAsync"/> for an account about to be created.</summary>
/// <param name="BonusEligible">False when this mailbox or device created an account before: no second signup bonus.</param>
public sealed record RegistrationDecision(bool BonusEligible);

/// <summary>A signal two registrations share.</summary>
public enum RegistrationSignal
{
    Device,
    Ip,
    Email,
}

/// <summary>Another account linked to the one asked about, and the signals they share.</summary>
public sealed record LinkedAccount(Guid UserId, IReadOnlyList<RegistrationSignal> Signals);

/// <summary>
/// Deduplication at registration: decides, just before an account is created, whether it may be and whether
/// it may get the signup bonus, and records what was known about the client once it is. Only called for new
/// accounts, so an existing account signing in is never affected.
/// </summary>
/// <remarks>
/// The per-IP cap is a count followed by an insert, not one atomic step: registrations from one IP racing each other
/// can each see the count below the cap, so a burst may let a few more through than the cap. An exact cap would need
/// a lock per IP across processes; the cap is a brake on bulk sign-ups, not a guarantee, so that cost is not paid.
/// </remarks>
public sealed partial class RegistrationGuard(
    RootDbContext db, AuthKeys keys, IOptions<RegistrationOptions> options, TimeProvider time, ILogger<RegistrationGuard> logger)
{
    private RegistrationOptions Settings => options.Value;

    /// <summary>
    /// Refuses the registration with <c>registration_limit</c> (429, with Retry-After) when the client's IP reached its
    /// cap, or with <c>duplicate_account</c> (409) when the device already registered and the policy refuses that;
    /// otherwise decides whether the new account may get the signup bonus.
    /// </summary>
    /// <param name="emailKey">The canonical address the account will hold; null when it will hold none it owns.</param>
    public async Task<RegistrationDecision> CheckAsync(string? emailKey, ClientInfo client, CancellationToken cancellationToken)
    {
        await RefuseOverIpCapAsync(client.Ip, cancellationToken);

        var deviceSeen = client.DeviceIdHash is { } deviceIdHash
            && await db.Registrations.AnyAsync(registration => registration.DeviceIdHash == deviceIdHash, cancellationToken);
        if (deviceSeen && Settings.SharedDevice == SharedDevicePolicy.Refuse)
        {
            throw ErrorCatalog.DuplicateAccount.ToException();
        }

        // Live accounts are unique on the canonical address, so a match here is an account deleted and created again.
        var emailHash = EmailHash(emailKey);
        var emailSeen = emailHash is not null
            && await db.Registrations.AnyAsync(registration => registration.EmailHash == emailHash, cancellationToken);
        if (deviceSeen || emailSeen)
        {
            LogBonusWithheld(logger, deviceSeen, emailSeen);
        }

        return new RegistrationDecision(BonusEligible: !deviceSeen && !emailSeen);
    }

    /// <summary>Records the registration of <paramref name="userId"/>, just created after <see cref="CheckAsync"/> allowed it.</summary>
    public async Task RecordAsync(Guid userId, string? emailKey, ClientInfo client, RegistrationDecision decision, CancellationToken cancellationToken)
    {
        db.Registrations.Add(new Registration
        {
            UserId = userId,
            EmailHash = EmailHash(emailKey),
            DeviceIdHash = client.DeviceIdHash,
            Ip = client.Ip,
            CreatedAt = time.GetUtcNow(),
            BonusEligible = decision.BonusEligible,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>For operators: the other accounts that registered with this account's device, IP or address.</summary>
    public async Task<IReadOnlyList<LinkedAccount>> LinkedAccountsAsync(Guid userId, CancellationToken cancellationToken)
    {
        var own = await db.Registrations.AsNoTracking().Where(registration => registration.UserId == userId).ToListAsync(cancellationToken);
        var links = new List<(Guid UserId, RegistrationSignal Signal)>();
        foreach (var registration in own)
        {
            var others = db.Registrations.AsNoTracking().Where(other => other.UserId != userId);
            if (registration.DeviceIdHash is { } deviceIdHash)
            {
                links.AddRange((await others.Where(other => other.DeviceIdHash == deviceIdHash).Select(other => other.UserId).ToListAsync(cancellationToken))
                    .Select(other => (other, RegistrationSignal.Device)));
            }

            if (registration.Ip is { } ip)
            {
                links.AddRange((await others.Where(other => other.Ip == ip).Select(other => other.UserId).ToListAsync(cancellationToken))
                    .Select(other => (other, RegistrationSignal.Ip)));
            }

            if (registration.EmailHash is { } emailHash)
            {
                links.AddRange((await others.Where(other => other.EmailHash == emailHash).Select(other => other.UserId).ToListAsync(cancellationToken))
                    .Select(other => (other, RegistrationSignal.Email)));
            }
        }

        return links
            .GroupBy(link => link.UserId)
            .Select(group => new LinkedAccount(group.Key, group.Select(link => link.Signal).Distinct().Order().ToList()))
            .OrderBy(account => account.UserId)
            .ToList();
    }

    private async Task RefuseOverIpCapAsync(string? ip, CancellationToken cancellationToken)
    {
        if (ip is null)
        {
            return;
        }

        var window = TimeSpan.FromHours(Settings.IpWindowHours);
        var now = time.GetUtcNow();
        var windowStart = now - window;
        // Only the oldest registrations that still count are read: the cap-th one back decides when a place frees up.
        var recent = await db.Registrations.AsNoTracking()
            .Where(registration => registration.Ip == ip && registration.CreatedAt > windowStart)
            .OrderByDescending(registration => registration.CreatedAt)
            .Select(registration => registration.CreatedAt)
            .Take(Settings.MaxPerIp)
            .ToListAsync(cancellationToken);
        if (recent.Count < Settings.MaxPerIp)
        {
            return;
        }

        var wait = recent[^1] + window - now;
        throw new ApiException([ErrorCatalog.RegistrationLimit.At(null)], wait);
    }

    /// <summary>How a canonical address is kept in <see cref="Registration.EmailHash"/>: for operators' searches too.</summary>
    public byte[]? EmailHash(string? emailKey) =>
        emailKey is null ? null : HMACSHA256.HashData(keys.RegistrationKey, Encoding.UTF8.GetBytes(emailKey));

    [LoggerMessage(Level = LogLevel.Information, Message = "A new account gets no signup bonus: device registered before {DeviceSeen}, address registered before {EmailSeen}")]
    private static partial void LogBonusWithheld(ILogger logger, bool deviceSeen, bool emailSeen);
}
