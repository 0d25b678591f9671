using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Persistence;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Pagination;

/// <summary>The keyset pagination helper translates and pages correctly on both providers.</summary>
public sealed class CursorPaginationTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Pages_walk_every_row_once_newest_first_and_end_with_a_null_cursor(DatabaseShape shape)
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), shape);
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RootDbContext>();
        db.DataProtectionKeys.AddRange(Enumerable.Range(1, 45).Select(number => new DataProtectionKey { FriendlyName = $"row-{number:00}", Xml = "<key/>" }));
        await db.SaveChangesAsync(Cancel);
        var rows = db.DataProtectionKeys.Where(key => key.FriendlyName!.StartsWith("row-"));

        var seen = new List<string>();
        var page = PageRequest.First(limit: 20);
        var pageSizes = new List<int>();
        while (true)
        {
            var result = await rows.ToCursorPageAsync(page, key => (long)key.Id, key => key.FriendlyName!, Cancel);
            pageSizes.Add(result.Results.Count);
            seen.AddRange(result.Results);
            if (result.NextCursor is null)
            {
                break;
            }

            page = page with { After = Cursor.Decode(result.NextCursor) };
        }

        pageSizes.ShouldBe([20, 20, 5]);
        seen.ShouldBe(Enumerable.Range(1, 45).Reverse().Select(number => $"row-{number:00}"));
    }

    [Fact, Fast]
    public void Cursors_round_trip_and_forgeries_are_rejected()
    {
        Cursor.Decode(Cursor.Encode(new SequenceKey(1234567890123))).ShouldBe(new SequenceKey(1234567890123));
        var created = new CreatedKey(new DateTimeOffset(2026, 12, 6, 10, 30, 15, 123, 456, TimeSpan.Zero), Guid.NewGuid());
        Cursor.Decode(Cursor.Encode(created)).ShouldBe(created);
        Cursor.Decode(Convert.ToBase64String("t1:123:not-a-uuid"u8).TrimEnd('=')).ShouldBeNull();
        Cursor.Decode("MTIz").ShouldBeNull();
        Cursor.Decode("not base64!").ShouldBeNull();
        Cursor.Decode(new string('A', 200)).ShouldBeNull();
    }
}
