using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Apptork.Root.Features.Fraud;

public enum EmailDomainRuleKind
{
    /// <summary>Refuse addresses on the domain and its subdomains, listed as disposable or not.</summary>
    Block,

    /// <summary>Accept addresses on the domain and its subdomains even when the shipped list calls them disposable.</summary>
    Allow,
}

/// <summary>An operator's override of the shipped disposable-domain list for one domain and its subdomains.</summary>
public sealed class EmailDomainRule
{
    private EmailDomainRule(string domain, EmailDomainRuleKind kind, string? note, DateTimeOffset createdAt)
    {
        Domain = domain;
        Kind = kind;
        Note = note;
        CreatedAt = createdAt;
    }

    public long Id { get; private set; }

    /// <summary>Lower-case punycode without a trailing dot, as <see cref="EmailNormalizer.TryNormalizeDomain"/> gives it.</summary>
    public string Domain { get; private set; }

    public EmailDomainRuleKind Kind { get; set; }

    /// <summary>Why the operator added the rule.</summary>
    public string? Note { get; set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>A rule for <paramref name="domain"/>, normalized so that it matches what addresses normalize to.</summary>
    /// <exception cref="ArgumentException">The domain is not a valid domain name.</exception>
    public static EmailDomainRule Create(string domain, EmailDomainRuleKind kind, string? note, DateTimeOffset createdAt) =>
        EmailNormalizer.TryNormalizeDomain(domain, out var normalized)
            ? new EmailDomainRule(normalized, kind, note, createdAt)
            : throw new ArgumentException($"'{domain}' is not a valid domain name.", nameof(domain));
}

public sealed class EmailDomainRuleConfiguration : IEntityTypeConfiguration<EmailDomainRule>
{
    public const int MaxNoteLength = 500;

    public void Configure(EntityTypeBuilder<EmailDomainRule> builder)
    {
        builder.ToTable("email_domain_rules", table =>
            // Rules are looked up by the normalized domain; a mixed-case row would never match anything.
            table.HasCheckConstraint("ck_email_domain_rules_domain_lower_case", "domain = lower(domain)"));
        builder.HasKey(rule => rule.Id);
        builder.Property(rule => rule.Domain).HasMaxLength(EmailNormalizer.MaxDomainLength);
        builder.HasIndex(rule => rule.Domain).IsUnique();
        builder.Property(rule => rule.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(rule => rule.Note).HasMaxLength(MaxNoteLength);
    }
}
