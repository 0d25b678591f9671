using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Auth.Otp;
using Apptork.Root.Features.Checkout;
using Apptork.Root.Features.Purchases;
using Apptork.Root.Features.FeatureFlags;
using Apptork.Root.Features.Files;
using Apptork.Root.Features.Generation;
using Apptork.Root.Features.Messages;
using Apptork.Root.Features.Auth.Tokens;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Health;
using Apptork.Root.Platform.Idempotency;
using Apptork.Root.Platform.Localization;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Apptork.Root.Platform.Persistence;

/// <summary>
/// The application's one database context. Each provider has its own subclass only so that EF Core keeps one
/// set of migrations per provider (migrations are bound to a context type); the model is the same.
/// </summary>
public abstract class RootDbContext(DbContextOptions options) : IdentityUserContext<User, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>ASP.NET Core Data Protection keys, shared by every process through the database.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<OtpChallenge> OtpChallenges => Set<OtpChallenge>();

    public DbSet<Session> Sessions => Set<Session>();

    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    public DbSet<EmailDomainRule> EmailDomainRules => Set<EmailDomainRule>();

    public DbSet<Registration> Registrations => Set<Registration>();

    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    public DbSet<Wallet> Wallets => Set<Wallet>();

    public DbSet<LedgerEntry> LedgerEntries => Set<LedgerEntry>();

    public DbSet<AccountFlag> AccountFlags => Set<AccountFlag>();

    public DbSet<CreditPack> CreditPacks => Set<CreditPack>();

    public DbSet<Payment> Payments => Set<Payment>();

    public DbSet<ProcessedPaymentEvent> ProcessedPaymentEvents => Set<ProcessedPaymentEvent>();

    public DbSet<StoreRevocation> StoreRevocations => Set<StoreRevocation>();

    public DbSet<StoredFile> Files => Set<StoredFile>();

    public DbSet<Generation> Generations => Set<Generation>();

    /// <summary>Generations whose job is still owed to the job storage (the dispatch outbox).</summary>
    public DbSet<UndispatchedGeneration> UndispatchedGenerations => Set<UndispatchedGeneration>();

    public DbSet<FeatureFlag> FeatureFlags => Set<FeatureFlag>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<MessageDismissal> MessageDismissals => Set<MessageDismissal>();

    /// <summary>Every translated text an operator writes (pack names, messages, flag descriptions), one row per language.</summary>
    public DbSet<Translation> Translations => Set<Translation>();

    /// <summary>The health page's write probe: each row lives for one check.</summary>
    public DbSet<HealthProbe> HealthProbes => Set<HealthProbe>();

    /// <summary>The control plane's operators: accounts of their own, never app users.</summary>
    public DbSet<StaffMember> StaffMembers => Set<StaffMember>();

    public DbSet<StaffRecoveryCode> StaffRecoveryCodes => Set<StaffRecoveryCode>();

    /// <summary>Append-only: the database refuses UPDATE and DELETE on it.</summary>
    public DbSet<AdminAuditEntry> AdminAudit => Set<AdminAuditEntry>();

    /// <summary>Each feature's entities, one explicit line each.</summary>
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // Identity's tables under plain names; a linked provider account ("identity" in the API) is a user login.
        builder.Entity<IdentityUserLogin<Guid>>().ToTable("user_identities");
        builder.Entity<IdentityUserClaim<Guid>>().ToTable("user_claims");
        builder.Entity<IdentityUserToken<Guid>>().ToTable("user_tokens");
        builder.ApplyConfiguration(new UserConfiguration());
        builder.ApplyConfiguration(new OtpChallengeConfiguration());
        builder.ApplyConfiguration(new SessionConfiguration());
        builder.ApplyConfiguration(new RefreshTokenConfiguration());
        builder.ApplyConfiguration(new EmailDomainRuleConfiguration());
        builder.ApplyConfiguration(new RegistrationConfiguration());
        builder.ApplyConfiguration(new IdempotencyRecordConfiguration());
        builder.ApplyConfiguration(new WalletConfiguration());
        builder.ApplyConfiguration(new LedgerEntryConfiguration());
        builder.ApplyConfiguration(new AccountFlagConfiguration());
        builder.ApplyConfiguration(new CreditPackConfiguration());
        builder.ApplyConfiguration(new PaymentConfiguration());
        builder.ApplyConfiguration(new ProcessedPaymentEventConfiguration());
        builder.ApplyConfiguration(new StoreRevocationConfiguration());
        builder.ApplyConfiguration(new StoredFileConfiguration());
        builder.ApplyConfiguration(new GenerationConfiguration());
        builder.ApplyConfiguration(new UndispatchedGenerationConfiguration());
        builder.ApplyConfiguration(new TranslationConfiguration());
        builder.ApplyConfiguration(new FeatureFlagConfiguration());
        builder.ApplyConfiguration(new MessageConfiguration());
        builder.ApplyConfiguration(new MessageDismissalConfiguration());
        builder.ApplyConfiguration(new HealthProbeConfiguration());
        builder.ApplyConfiguration(new StaffMemberConfiguration());
        builder.ApplyConfiguration(new StaffRecoveryCodeConfiguration());
        builder.ApplyConfiguration(new AdminAuditEntryConfiguration());
        var (shortfallUser, shortfallWallet) = SystemAccounts.ShortfallSeed();
        builder.Entity<User>().HasData(shortfallUser);
        builder.Entity<Wallet>().HasData(shortfallWallet);
    }
}

public sealed class SqliteRootDbContext(DbContextOptions<SqliteRootDbContext> options) : RootDbContext(options)
{
    /// <summary>
    /// SQLite has no time type and EF Core cannot compare or order DateTimeOffset text there; as a 64-bit number
    /// (times are always UTC, so the offset part is constant) comparisons and ordering are exact and indexable.
    /// </summary>
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresRootDbContext(DbContextOptions<PostgresRootDbContext> options) : RootDbContext(options);
