using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Apptork.Root.Admin.Audit;
using Apptork.Root.Admin.Staff;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Admin;

/// <summary>The ledger screen, the audit log's search, and their CSV exports: filters, paging, refusals and the export's audit row.</summary>
public sealed partial class AdminLedgerTests(PostgresServer postgres)
{
    private const string Admin = AdminClient.Path;
    private const string LedgerHeader = "id,created_at,user_id,kind,amount,held_change,balance_after,reference,operator,memo";
    private const string AuditHeader = "id,at,staff_email,action,target,before,after,reason,ip";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string Today => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Tomorrow => DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Theory(Timeout = 240_000), MemberData(nameof(DatabaseShapes.Both), MemberType = typeof(DatabaseShapes))]
    public async Task The_ledger_screen_filters_pages_and_exports_what_it_shows(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        var auth = new AuthClient(app);
        var alice = (await auth.SignInAsync("alice@example.com")).User;
        var bob = (await auth.SignInAsync("bob@example.com")).User;
        var books = new WalletBooks(app);
        for (var i = 0; i < 55; i++)
        {
            await books.PostAsync(alice.Id, 1, $"purchase-{i}", LedgerEntryKind.Purchase, memo: $"purchase {i}");
        }

        await books.PostAsync(alice.Id, 3, "goodwill", LedgerEntryKind.Adjustment, @operator: "finance@example.com", memo: "=HYPERLINK(\"http://evil.example\")");
        await books.PostAsync(bob.Id, 5, "bob-purchase", LedgerEntryKind.Purchase);
        await books.PostAsync(bob.Id, -2, "bob-generation", LedgerEntryKind.Generation);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        // Everything, newest first, 50 a page; the next page holds the rest and ends the list.
        var all = await PageAsync(browser, $"{Admin}/ledger");
        all.Rows.ShouldBe(50);
        all.Body.IndexOf("bob@example.com", StringComparison.Ordinal).ShouldBeLessThan(all.Body.IndexOf("alice@example.com", StringComparison.Ordinal));
        var rest = await PageAsync(browser, all.Next.ShouldNotBeNull());
        (rest.Rows, rest.Next).ShouldBe((8, null));

        // By email, linking each row to the user's wallet; by id and kind; by kind and UTC days, across two pages.
        var bobs = await PageAsync(browser, $"{Admin}/ledger?user=BOB%40example.com");
        bobs.Rows.ShouldBe(2);
        bobs.Body.ShouldContain($"href=\"{Admin}/wallet?user={bob.Id}\"");
        bobs.Body.ShouldNotContain("alice@example.com</a>");
        var adjustments = await PageAsync(browser, $"{Admin}/ledger?user={alice.Id}&Kind=adjustment");
        adjustments.Rows.ShouldBe(1);
        adjustments.Body.ShouldContain(WebUtility.HtmlEncode("=HYPERLINK(\"http://evil.example\")"));
        var purchases = await PageAsync(browser, $"{Admin}/ledger?Kind=purchase&From={Today}&To={Today}");
        purchases.Rows.ShouldBe(50);
        var morePurchases = await PageAsync(browser, purchases.Next.ShouldNotBeNull());
        morePurchases.Next.ShouldBeNull();
        morePurchases.Rows.ShouldBe(6);
        var none = await PageAsync(browser, $"{Admin}/ledger?From={Tomorrow}");
        none.Rows.ShouldBe(0);
        none.Body.ShouldContain("No ledger entries match these filters.");

        // The CSV of a filter: a download, every matching row newest first, the formula escaped, numbers left alone.
        var (status, csv, response) = await browser.GetAsync($"{Admin}/ledger?handler=Csv&user=alice%40example.com");
        status.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        response.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        response.Content.Headers.ContentDisposition.FileName.ShouldNotBeNull().ShouldMatch(@"^ledger-\d{8}T\d{6}Z\.csv$");
        var lines = Lines(csv);
        lines[0].ShouldBe(LedgerHeader);
        lines.Count.ShouldBe(1 + 56);
        lines[1].ShouldEndWith($",{alice.Id},adjustment,3,0,58,,finance@example.com,\"'=HYPERLINK(\"\"http://evil.example\"\")\"");
        lines[^1].ShouldEndWith($",{alice.Id},purchase,1,0,1,,,purchase 0");
        var bobCsv = Lines((await browser.GetAsync($"{Admin}/ledger?handler=Csv&user={bob.Id}&Kind=generation")).Body);
        bobCsv.Count.ShouldBe(2);
        bobCsv[1].ShouldEndWith($",{bob.Id},generation,-2,0,3,,,");

        // Each export is an operator action with its filters.
        var exports = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action == AdminActions.LedgerExported).ToList();
        exports.Count.ShouldBe(2);
        exports.ShouldAllBe(entry => entry.StaffId == finance.Id);
        exports[0].After.ShouldBe("{\"User\":\"alice@example.com\",\"Kind\":null,\"From\":null,\"To\":null}");
        exports[1].After.ShouldBe($"{{\"User\":\"{bob.Id}\",\"Kind\":\"generation\",\"From\":null,\"To\":null}}");
    }

    [Fact(Timeout = 120_000)]
    public async Task Bad_filters_name_their_field_and_export_nothing()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-ledger-filters"));
        var superuser = await StaffSeed.EnrolledAsync(app, "root@example.com", StaffRoles.Superuser);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());

        var refusals = new Dictionary<string, string>
        {
            [$"{Admin}/ledger?From=2026-13-01"] = "From: enter a date as YYYY-MM-DD.",
            [$"{Admin}/ledger?To=yesterday"] = "To: enter a date as YYYY-MM-DD.",
            [$"{Admin}/ledger?From=2026-02-02&To=2026-02-01"] = "To: choose a day on or after From.",
            [$"{Admin}/ledger?Kind=bonus"] = "Kind: choose one of the listed kinds.",
            [$"{Admin}/ledger?user=nobody%40example.com"] = "User: no user has that id or email.",
            [$"{Admin}/ledger?handler=Csv&Kind=bonus"] = "Kind: choose one of the listed kinds.",
            [$"{Admin}/audit?AuditAction=drop.table"] = "Action: choose one of the listed actions.",
            [$"{Admin}/audit?Target={new string('x', 301)}"] = "Target: use at most 300 characters.",
            [$"{Admin}/audit?handler=Csv&From=01/02/2026"] = "From: enter a date as YYYY-MM-DD.",
        };
        foreach (var (path, message) in refusals)
        {
            var (status, body, response) = await browser.GetAsync(path);
            status.ShouldBe(HttpStatusCode.BadRequest, path);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html", path);
            body.ShouldContain(message, customMessage: path);
        }

        (await StaffSeed.AuditAsync(app)).ShouldNotContain(entry => entry.Action == AdminActions.LedgerExported || entry.Action == AdminActions.AuditExported);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_audit_log_is_searched_paged_and_exported()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-audit-search"));
        var superuser = await StaffSeed.EnrolledAsync(app, "root@example.com", StaffRoles.Superuser);
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using (var other = new AdminClient(app.Client().BaseAddress!))
        {
            await other.SignInAsync(finance.Email, finance.Password, finance.NextCode());
            (await other.TrySignInAsync("Nobody@Example.com", "wrong password", "000000")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var audit = scope.ServiceProvider.GetRequiredService<AdminAudit>();
            for (var i = 0; i < 59; i++)
            {
                audit.Record(new AuditActor(finance.Id, finance.Email, null), AdminActions.WalletAdjusted, $"user:{i}", reason: $"goodwill {i}");
            }

            audit.Record(new AuditActor(finance.Id, finance.Email, null), AdminActions.WalletAdjusted, "user:last", reason: "@SUM(A1:A9)");
            await scope.ServiceProvider.GetRequiredService<Apptork.Root.Platform.Persistence.RootDbContext>().SaveChangesAsync(Cancel);
        }

        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(superuser.Email, superuser.Password, superuser.NextCode());

        // By member, in any spelling of the address; by action; by part of the target; by UTC days.
        var financeRows = Cells(await AuditPageAsync(browser, $"{Admin}/audit?StaffEmail=FINANCE%40example.com"), "who");
        financeRows.Count.ShouldBe(50);
        financeRows.ShouldAllBe(email => email == finance.Email);
        var failed = await AuditPageAsync(browser, $"{Admin}/audit?AuditAction=sign_in.failed");
        Cells(failed, "who").ShouldBe(["Nobody@Example.com"]);
        (await AuditPageAsync(browser, $"{Admin}/audit?StaffEmail=Nobody%40Example.com&AuditAction=sign_in.failed")).ShouldContain("Nobody@Example.com");
        var targets = Cells(await AuditPageAsync(browser, $"{Admin}/audit?Target=finance%40example.com"), "target");
        targets.Count.ShouldBe(3);
        targets.ShouldAllBe(target => target == $"staff:{finance.Id} finance@example.com");
        Cells(await AuditPageAsync(browser, $"{Admin}/audit?From={Tomorrow}"), "who").ShouldBeEmpty();
        Cells(await AuditPageAsync(browser, $"{Admin}/audit?From={Today}&To={Today}"), "who").Count.ShouldBe(50);

        // Keyset pages keep the search: 50, then the last 10 of the 60 adjustments, then no further link.
        var first = await AuditPageAsync(browser, $"{Admin}/audit?AuditAction=wallet.adjusted");
        Cells(first, "action").Count.ShouldBe(50);
        Cells(first, "target")[0].ShouldBe("user:last");
        var next = NextLink(first).ShouldNotBeNull();
        next.ShouldContain("AuditAction=wallet.adjusted");
        var second = await AuditPageAsync(browser, next);
        Cells(second, "action").ShouldBe(Enumerable.Repeat(AdminActions.WalletAdjusted, 10).ToArray());
        Cells(second, "target")[^1].ShouldBe("user:0");
        NextLink(second).ShouldBeNull();

        // The CSV of the search, formula escaped, audited with its filters.
        var (status, csv, response) = await browser.GetAsync($"{Admin}/audit?handler=Csv&AuditAction=wallet.adjusted");
        status.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        response.Content.Headers.ContentDisposition!.FileName.ShouldNotBeNull().ShouldMatch(@"^audit-\d{8}T\d{6}Z\.csv$");
        var lines = Lines(csv);
        lines[0].ShouldBe(AuditHeader);
        lines.Count.ShouldBe(61);
        lines[1].ShouldContain($",{finance.Email},wallet.adjusted,user:last,,,\"'@SUM(A1:A9)\",");
        var export = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action == AdminActions.AuditExported).ShouldHaveSingleItem();
        (export.StaffId, export.After).ShouldBe((superuser.Id, "{\"StaffEmail\":null,\"Action\":\"wallet.adjusted\",\"Target\":null,\"From\":null,\"To\":null}"));
    }

    [Fact(Timeout = 120_000)]
    public async Task The_ledger_and_audit_pages_and_exports_answer_each_role_as_the_table_says()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("admin-ledger-access"));
        string[] paths = [$"{Admin}/ledger", $"{Admin}/ledger?handler=Csv", $"{Admin}/audit", $"{Admin}/audit?handler=Csv"];
        const HttpStatusCode Ok = HttpStatusCode.OK, Forbidden = HttpStatusCode.Forbidden, SignIn = HttpStatusCode.Redirect;
        var table = new Dictionary<string, HttpStatusCode[]>
        {
            //                 ledger, ledger csv, audit, audit csv
            ["anonymous"] = [SignIn, SignIn, SignIn, SignIn],
            [StaffRoles.Support] = [Forbidden, Forbidden, Forbidden, Forbidden],
            [StaffRoles.Finance] = [Ok, Ok, Forbidden, Forbidden],
            [StaffRoles.Superuser] = [Ok, Ok, Ok, Ok],
        };

        var mismatches = new List<string>();
        foreach (var (role, expected) in table)
        {
            using var browser = new AdminClient(app.Client().BaseAddress!);
            if (role != "anonymous")
            {
                var member = await StaffSeed.EnrolledAsync(app, $"{role}@example.com", role);
                await browser.SignInAsync(member.Email, member.Password, member.NextCode());
            }

            foreach (var (path, status) in paths.Zip(expected))
            {
                var (actual, _, response) = await browser.GetAsync(path);
                if (actual != status || (status == SignIn && !response.Headers.Location!.OriginalString.Contains("/sign-in", StringComparison.Ordinal)))
                {
                    mismatches.Add($"{role} {path}: {actual}, expected {status}");
                }
            }
        }

        mismatches.ShouldBeEmpty();
        // Only the exports that ran left a row: none of the refused roles'.
        var exports = (await StaffSeed.AuditAsync(app)).Where(entry => entry.Action is AdminActions.LedgerExported or AdminActions.AuditExported)
            .Select(entry => $"{entry.StaffEmail} {entry.Action}").ToList();
        exports.ShouldBe(["finance@example.com ledger.exported", "superuser@example.com ledger.exported", "superuser@example.com audit.exported"]);
    }

    /// <summary>
    /// The export is written while PostgreSQL is still sending the rows: the client reads the first rows of ~45 MB and
    /// stops, and the export's query is then still running, held by the unread output (a server that read every row
    /// before writing, with ToList, would have finished its query before the first byte left). The data are much larger
    /// than every buffer in between (the sockets', Npgsql's, Kestrel's, the CSV writer's), so the query cannot finish.
    /// </summary>
    [Fact(Timeout = 300_000)]
    [Long]
    public async Task The_ledger_export_is_written_while_the_database_still_reads_it()
    {
        const int Rows = 150_000;
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var user = (await new AuthClient(app).SignInAsync("big@example.com")).User;
        var books = new WalletBooks(app);
        await books.PostAsync(user.Id, 1, "first");
        await books.WithDbAsync(db => db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO ledger_entries (user_id, amount, balance_after, kind, idempotency_key, memo, created_at)
            SELECT {user.Id}, 1, 1 + g, 'purchase', 'bulk:' || g, repeat('m', 250), now() FROM generate_series(1, {Rows}) AS g
            """, Cancel));
        var finance = await StaffSeed.EnrolledAsync(app, "finance@example.com", StaffRoles.Finance);
        using var browser = new AdminClient(app.Client().BaseAddress!);
        await browser.SignInAsync(finance.Email, finance.Password, finance.NextCode());

        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = app.Client().BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Admin}/ledger?handler=Csv");
        request.Headers.Add("Cookie", string.Join("; ", browser.Cookies.Select(cookie => $"{cookie.Key}={cookie.Value}")));
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
        (await reader.ReadLineAsync(Cancel)).ShouldBe(LedgerHeader);
        (await reader.ReadLineAsync(Cancel)).ShouldNotBeNull().ShouldStartWith($"{Rows + 1},");

        var stillReading = false;
        for (var attempt = 0; attempt < 50 && !stillReading; attempt++)
        {
            stillReading = await books.WithDbAsync(db => db.Database.SqlQuery<int>(
                $"""
                SELECT count(*)::int AS "Value" FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%FROM ledger_entries AS l%ORDER BY l.created_at DESC%'
                """).SingleAsync(Cancel)) > 0;
            if (!stillReading)
            {
                await Task.Delay(100, Cancel);
            }
        }

        stillReading.ShouldBeTrue("the export's query had finished while the client had read only its first rows");

        // Read to the end: every row is there.
        var rows = 1; // the first, read above
        while (await reader.ReadLineAsync(Cancel) is not null)
        {
            rows++;
        }

        rows.ShouldBe(Rows + 1);
    }

    private sealed record LedgerPage(string Body, int Rows, string? Next);

    private static async Task<LedgerPage> PageAsync(AdminClient browser, string path)
    {
        var (status, body, _) = await browser.GetAsync(path);
        status.ShouldBe(HttpStatusCode.OK, path);
        return new LedgerPage(body, Regex.Count(body, "<time datetime="), NextLink(body));
    }

    private static async Task<string> AuditPageAsync(AdminClient browser, string path)
    {
        var (status, body, _) = await browser.GetAsync(path);
        status.ShouldBe(HttpStatusCode.OK, path);
        return body;
    }

    private static string? NextLink(string body) =>
        NextLinkPattern().Match(body) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;

    /// <summary>The audit table's cells of one column: <c>who</c> (the member's address), <c>action</c> or <c>target</c>.</summary>
    private static List<string> Cells(string body, string column)
    {
        var index = column switch { "who" => 1, "action" => 2, "target" => 3, _ => throw new ArgumentOutOfRangeException(nameof(column)) };
        return AuditRowPattern().Matches(body).Select(match => WebUtility.HtmlDecode(match.Groups[index].Value)).ToList();
    }

    private static List<string> Lines(string csv) => csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).ToList();

    [GeneratedRegex("<a (?=[^>]*rel=\"next\")[^>]*href=\"([^\"]+)\"")]
    private static partial Regex NextLinkPattern();

    [GeneratedRegex("</time></td>\\s*<td>([^<]*)</td>\\s*<td class=\"action\">([^<]*)</td>\\s*<td>([^<]*)</td>")]
    private static partial Regex AuditRowPattern();
}
