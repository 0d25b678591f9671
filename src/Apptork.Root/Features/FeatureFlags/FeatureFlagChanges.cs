using Apptork.Root.Platform.Broadcasts;
using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Localization;
using Apptork.Root.Platform.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Apptork.Root.Features.FeatureFlags;

/// <summary>
/// The one way flags change, for the API's operators and the admin screen alike: the change and its description are
/// saved together, then announced so every process reads the flags again. <c>beforeSave</c> lets a caller add its own
/// rows (the admin's audit row) to the same save, after the change is applied.
/// </summary>
public sealed class FeatureFlagChanges(
    RootDbContext db, Translations translations, FeatureFlagDefinitions definitions, ChangeBroadcast broadcast, TimeProvider time)
{
    /// <summary>Creates a validated flag; a key that exists already is <c>conflict</c> at <c>key</c>.</summary>
    public async Task<FeatureFlag> CreateAsync(FeatureFlagBody body, Guid changedBy, Action<FeatureFlag>? beforeSave, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var flag = new FeatureFlag { Key = body.Key!, CreatedAt = now };
        body.ApplyTo(flag, changedBy, now);
        db.FeatureFlags.Add(flag);
        await translations.WriteAsync(FeatureFlagTexts.Owner, flag.Key, FeatureFlagTexts.Description, Texts(body.Description!), cancellationToken);
        beforeSave?.Invoke(flag);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (DatabaseErrors.IsUniqueViolation(exception))
        {
            throw ErrorCatalog.Conflict.ToException("key");
        }

        await AnnounceAsync(flag.Key);
        return flag;
    }

    /// <summary>Replaces a flag's switch and rules; its description too when the body has one. Missing: <c>not_found</c>.</summary>
    public async Task<FeatureFlag> UpdateAsync(
        string key, IFeatureFlagRules body, Guid changedBy, Action<FeatureFlag>? beforeSave, CancellationToken cancellationToken)
    {
        var flag = await db.FeatureFlags.SingleOrDefaultAsync(flag => flag.Key == key, cancellationToken) ?? throw ErrorCatalog.NotFound.ToException();
        body.ApplyTo(flag, changedBy, time.GetUtcNow());
        if (body.Description is not null)
        {
            await translations.WriteAsync(FeatureFlagTexts.Owner, key, FeatureFlagTexts.Description, Texts(body.Description), cancellationToken);
        }

        beforeSave?.Invoke(flag);
        await db.SaveChangesAsync(cancellationToken);
        await AnnounceAsync(key);
        return flag;
    }

    /// <summary>Deletes a flag and its description in one transaction; missing: <c>not_found</c>.</summary>
    public async Task DeleteAsync(string key, Action? beforeSave, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            if (await db.FeatureFlags.Where(flag => flag.Key == key).ExecuteDeleteAsync(cancellationToken) == 0)
            {
                throw ErrorCatalog.NotFound.ToException();
            }

            await translations.RemoveAllAsync(FeatureFlagTexts.Owner, key, cancellationToken);
            if (beforeSave is not null)
            {
                beforeSave();
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        await AnnounceAsync(key);
    }

    /// <summary>Validated already: every text is there.</summary>
    private static Dictionary<string, string> Texts(IReadOnlyDictionary<string, string?> byLanguage) =>
        byLanguage.ToDictionary(pair => pair.Key, pair => pair.Value!);

    /// <summary>After the commit, so every process that hears it reads the change.</summary>
    private Task AnnounceAsync(string key)
    {
        definitions.Invalidate();
        return broadcast.PublishAsync(FeatureFlagDefinitions.Topic, key);
    }
}
