using System.Data.Common;
using Apptork.Root.Features.Fraud;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Fraud;

/// <summary>Operators' domain rules, stored in the real database of each shape, override the shipped list.</summary>
public sealed class EmailDomainPolicyTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Rule_changes_apply_after_a_refresh_or_once_the_cached_rules_expire(DatabaseShape shape)
    {
        var time = NewClock();
        await using var app = await StartAsync(shape, time);
        var policy = app.Services.GetRequiredService<EmailDomainPolicy>();

        (await policy.DecideAsync("mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Disposable);
        (await policy.DecideAsync("inbox.mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Disposable);
        (await policy.DecideAsync("spam-corp.example", Cancel)).ShouldBe(EmailDomainDecision.Allowed);

        await AddRulesAsync(app, time,
            ("inbox.mailinator.com", EmailDomainRuleKind.Allow),
            ("spam-corp.example", EmailDomainRuleKind.Block));
        (await policy.DecideAsync("inbox.mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Disposable, "the rules are still cached");
        (await policy.DecideAsync("spam-corp.example", Cancel)).ShouldBe(EmailDomainDecision.Allowed, "the rules are still cached");

        await policy.RefreshAsync(Cancel);
        (await policy.DecideAsync("inbox.mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Allowed);
        (await policy.DecideAsync("deep.inbox.mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Allowed);
        (await policy.DecideAsync("mailinator.com", Cancel)).ShouldBe(EmailDomainDecision.Disposable, "allowing a subdomain leaves its parent listed");
        (await policy.DecideAsync("spam-corp.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
        (await policy.DecideAsync("mx.spam-corp.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);

        await AddRulesAsync(app, time, ("late.example", EmailDomainRuleKind.Block));
        time.Advance(EmailDomainPolicy.RulesCacheLifetime - TimeSpan.FromSeconds(1));
        (await policy.DecideAsync("late.example", Cancel)).ShouldBe(EmailDomainDecision.Allowed, "the rules are still cached");
        time.Advance(TimeSpan.FromSeconds(1));
        (await policy.DecideAsync("late.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task The_most_specific_rule_decides_and_domains_match_however_they_are_typed(DatabaseShape shape)
    {
        var time = NewClock();
        await using var app = await StartAsync(shape, time);
        await AddRulesAsync(app, time,
            ("Corp.Example.", EmailDomainRuleKind.Block),
            ("good.corp.example", EmailDomainRuleKind.Allow),
            ("Bücher.example", EmailDomainRuleKind.Block),
            ("guerrillamail.com", EmailDomainRuleKind.Allow));
        var policy = app.Services.GetRequiredService<EmailDomainPolicy>();

        (await policy.DecideAsync("corp.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
        (await policy.DecideAsync("bad.corp.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
        (await policy.DecideAsync("GOOD.Corp.Example.", Cancel)).ShouldBe(EmailDomainDecision.Allowed);
        (await policy.DecideAsync("x.good.corp.example", Cancel)).ShouldBe(EmailDomainDecision.Allowed);
        (await policy.DecideAsync("bücher.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
        (await policy.DecideAsync("xn--bcher-kva.example", Cancel)).ShouldBe(EmailDomainDecision.Blocked);
        (await policy.DecideAsync("guerrillamail.com", Cancel)).ShouldBe(EmailDomainDecision.Allowed, "an allow rule beats the shipped list");
        (await policy.DecideAsync("sharklasers.com", Cancel)).ShouldBe(EmailDomainDecision.Disposable);
        (await policy.DecideAsync("gmail.com", Cancel)).ShouldBe(EmailDomainDecision.Allowed);
        await Should.ThrowAsync<ArgumentException>(async () => await policy.DecideAsync("not a domain", Cancel));
    }

    [Theory, MemberData(nameof(Shapes))]
    public async Task Rules_are_stored_one_per_lower_case_domain_with_their_kind_as_text(DatabaseShape shape)
    {
        var time = NewClock();
        await using var app = await StartAsync(shape, time);
        await AddRulesAsync(app, time, ("dup.example", EmailDomainRuleKind.Block), ("other.example", EmailDomainRuleKind.Allow));

        var duplicate = await Should.ThrowAsync<DbUpdateException>(() => AddRulesAsync(app, time, ("DUP.example", EmailDomainRuleKind.Allow)));
        duplicate.InnerException.ShouldNotBeNull().Message.ShouldContain("unique", Case.Insensitive);

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        var kinds = await db.Database.SqlQueryRaw<string>("SELECT kind AS \"Value\" FROM email_domain_rules ORDER BY domain").ToListAsync(Cancel);
        kinds.ShouldBe(["Block", "Allow"]);
        var stored = await db.EmailDomainRules.SingleAsync(rule => rule.Domain == "dup.example", Cancel);
        stored.Note.ShouldBe("added by a test");
        stored.CreatedAt.ShouldBe(time.GetUtcNow());

        var mixedCase = await Should.ThrowAsync<DbException>(() => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO email_domain_rules (domain, kind, created_at) VALUES ('Mixed.example', 'Block', '2026-01-01T00:00:00+00:00')", Cancel));
        mixedCase.Message.ShouldContain("ck_email_domain_rules_domain_lower_case");
    }

    [Fact, Fast]
    public void A_rule_is_refused_for_something_that_is_not_a_domain() =>
        Should.Throw<ArgumentException>(() => EmailDomainRule.Create("*.example.com", EmailDomainRuleKind.Block, note: null, DateTimeOffset.UtcNow));

    /// <summary>Now, to the second, so that both databases store the rules' creation time exactly.</summary>
    private static FakeTimeProvider NewClock() => new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    private Task<RootApp> StartAsync(DatabaseShape shape, TimeProvider time) =>
        RootApp.StartAsync(TestDatabases.For(postgres), shape, extensions: new RootApp.TestExtensions(
            Endpoints: _ => { },
            Services: services => services.AddSingleton(time)));

    private static async Task AddRulesAsync(RootApp app, TimeProvider time, params (string Domain, EmailDomainRuleKind Kind)[] rules)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        db.EmailDomainRules.AddRange(rules.Select(rule => EmailDomainRule.Create(rule.Domain, rule.Kind, "added by a test", time.GetUtcNow())));
        await db.SaveChangesAsync(Cancel);
    }
}
