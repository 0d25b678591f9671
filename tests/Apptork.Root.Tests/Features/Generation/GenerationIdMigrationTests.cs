using System.Net;
using System.Text.Json;
using Apptork.Root.Features.Auth.Users;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// Generations written while their ids were numbers stay reachable once the ids become UUIDs: the rows are written the
/// old way into a database at the migration before, then the database is migrated as a deployment migrates it.
/// </summary>
public sealed class GenerationIdMigrationTests(PostgresServer postgres)
{
    private const string Email = "veteran@example.com";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Generations_with_numeric_ids_are_reachable_by_their_new_uuids_and_their_ledger_entries_follow(DatabaseShape shape)
    {
        var (connectionString, db) = await TestDatabases.For(postgres).BeforeMigrationAsync(shape, "_GenerationUuidIds", "numeric_ids");
        var userId = Guid.CreateVersion7();
        var firstAt = new DateTimeOffset(2026, 11, 30, 8, 0, 0, 123, TimeSpan.Zero);
        var laterAt = firstAt.AddMinutes(5);
        await using (db)
        {
            await WriteNumericEraRowsAsync(db, userId, firstAt, laterAt);
        }

        // PostgreSQL is migrated by the migrate command; the embedded shape migrates its SQLite file when it starts.
        if (shape == DatabaseShape.Postgres)
        {
            await TestDatabases.MigrateWithCommandAsync(connectionString);
        }

        await using var app = await RootApp.StartOnAsync(shape, connectionString);
        var signedIn = await new AuthClient(app).SignInAsync(Email);
        signedIn.User.Id.ShouldBe(userId);
        var client = new GenerationClient(app, signedIn.AccessToken);

        var listed = await client.ListAsync();
        listed.Select(generation => generation.Status).ShouldBe(["failed", "succeeded"]);
        var (failed, succeeded) = (listed[0].Id, listed[1].Id);
        foreach (var (id, at) in new[] { (failed, laterAt), (succeeded, firstAt) })
        {
            id.Version.ShouldBe(7);
            Convert.ToInt64(id.ToString("N")[..12], 16).ShouldBe(at.ToUnixTimeMilliseconds(), "a migrated id carries its row's creation time");
        }

        (await client.GetAsync(succeeded)).ResultText.ShouldBe("an answer from before");
        (await client.GetAsync(failed)).Error!.Code.ShouldBe("generation_failed");
        using (var byOldNumber = await client.GetRawAsync("/api/v1/generations/1"))
        {
            await ErrorAssert.SingleAsync(byOldNumber, HttpStatusCode.NotFound, "client_error", "not_found");
        }

        var books = new WalletBooks(app);
        (await books.EntriesAsync(userId)).Select(entry => (entry.Kind, entry.Reference, entry.IdempotencyKey)).ShouldBe(
        [
            (LedgerEntryKind.Adjustment, "generation:123", "grant-1"),
            (LedgerEntryKind.Generation, $"generation:{succeeded}", $"generation:{succeeded}:charge"),
            (LedgerEntryKind.Generation, $"generation:{failed}", $"generation:{failed}:charge"),
            (LedgerEntryKind.Refund, $"generation:{failed}", $"generation:{failed}:refund"),
        ]);
        await books.ShouldAddUpAsync(userId, 9);
        (await books.ReconcileAsync()).ShouldBeEmpty();

        var keptAnswer = await books.WithDbAsync(db => db.IdempotencyRecords.Where(record => record.UserId == userId && record.Key == "create-1")
            .Select(record => record.Body).SingleAsync(Cancel));
        JsonDocument.Parse(keptAnswer!).RootElement.GetProperty("id").GetGuid().ShouldBe(succeeded);

        // The ledger is append-only again once its references are renamed.
        await Should.ThrowAsync<Exception>(() => books.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE ledger_entries SET memo = 'rewritten'", Cancel)));
    }

    /// <summary>
    /// Two generations as the numeric model wrote them, with their ledger entries and a kept answer: 1, which succeeded,
    /// and 12, which failed and was refunded. 12 names no entry of 1 (<c>generation:12</c> starts like <c>generation:1</c>),
    /// and an entry of another origin whose reference merely looks alike stays as it was.
    /// </summary>
    private static async Task WriteNumericEraRowsAsync(RootDbContext db, Guid userId, DateTimeOffset firstAt, DateTimeOffset laterAt)
    {
        var first = Stored(db, firstAt);
        var later = Stored(db, laterAt);
        // In SQL, as the tables stood then: today's model may have columns the older schema lacks.
        var normalizedEmail = new AccountLookupNormalizer().NormalizeEmail(Email);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO users (id, user_name, normalized_user_name, email, normalized_email, email_confirmed, security_stamp, created_at,
                               role, access_failed_count, lockout_enabled, phone_number_confirmed, two_factor_enabled)
            VALUES ({userId}, {userId.ToString("N")}, {userId.ToString("N").ToUpperInvariant()}, {Email}, {normalizedEmail}, TRUE,
                    {Guid.NewGuid().ToString()}, {first}, {UserRoles.Free}, 0, FALSE, FALSE, FALSE)
            """, Cancel);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO wallets (user_id, balance, updated_at) VALUES ({userId}, 9, {later})
            """, Cancel);

        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO generations (id, user_id, type, prompt, status, cost, attempts, result_text, error, created_at, updated_at, completed_at, idempotency_key)
            VALUES (1, {userId}, 'Text', 'an old question', 'Succeeded', 1, 1, 'an answer from before', NULL, {first}, {first}, {first}, 'create-1'),
                   (12, {userId}, 'Image', 'an old picture', 'Failed', 5, 3, NULL, 'provider down', {later}, {later}, {later}, 'create-12')
            """, Cancel);
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO ledger_entries (user_id, amount, balance_after, kind, idempotency_key, reference, created_at)
            VALUES ({userId}, 10, 10, 'adjustment', 'grant-1', 'generation:123', {first}),
                   ({userId}, -1, 9, 'generation', 'generation:1:charge', 'generation:1', {first}),
                   ({userId}, -5, 4, 'generation', 'generation:12:charge', 'generation:12', {later}),
                   ({userId}, 5, 9, 'refund', 'generation:12:refund', 'generation:12', {later})
            """, Cancel);
        var body = """{"id":1,"type":"text","status":"queued","prompt":"an old question","cost":1}"""u8.ToArray();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO idempotency_records (user_id, "key", request_hash, started_at, completed_at, status_code, content_type, body)
            VALUES ({userId}, 'create-1', {new byte[32]}, {first}, {first}, 202, 'application/json', {body})
            """, Cancel);
    }

    /// <summary>A time as its column stores it (a number on SQLite).</summary>
    private static object Stored(RootDbContext db, DateTimeOffset value) =>
        db.Model.FindEntityType(typeof(Root.Features.Generation.Generation))!.FindProperty(nameof(Root.Features.Generation.Generation.CreatedAt))!
            .GetTypeMapping().Converter?.ConvertToProvider(value) ?? value;
}
