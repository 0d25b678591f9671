using System.Net;
using System.Text.Json.Nodes;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Checkout;

/// <summary>
/// Pack names move from their own table into the one table of translated texts with the data operators wrote: a pack
/// and names added the old way are served by name, in each language, after the database is migrated.
/// </summary>
public sealed class PackNamesMigrationTests(PostgresServer postgres)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public static TheoryData<DatabaseShape> Shapes => DatabaseShapes.Both;

    [Theory, MemberData(nameof(Shapes))]
    public async Task Names_written_in_the_old_table_are_served_after_the_migration(DatabaseShape shape)
    {
        var (connectionString, db) = await TestDatabases.For(postgres).BeforeMigrationAsync(shape, "_Translations", "pack_names");
        await using (db)
        {
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO credit_packs (id, credits, price, currency, is_active, sort_order) VALUES ('mega', 9000, 19900, 'usd', TRUE, 0)", Cancel);
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO credit_pack_names (pack_id, language, name) VALUES ('mega', 'en', 'Mega pack'), ('mega', 'pt-BR', 'Pacote mega')", Cancel);
            await db.Database.ExecuteSqlRawAsync("UPDATE credit_pack_names SET name = 'Le petit' WHERE pack_id = 'starter' AND language = 'fr'", Cancel);
        }

        // PostgreSQL is migrated by the migrate command; the embedded shape migrates its SQLite file when it starts.
        if (shape == DatabaseShape.Postgres)
        {
            await TestDatabases.MigrateWithCommandAsync(connectionString);
        }

        await using var app = await RootApp.StartOnAsync(shape, connectionString);
        (await NamesAsync(app, "pt-BR")).ShouldBe(["Pacote mega", "Pacote inicial", "Pacote padrão", "Pacote pro"]);
        (await NamesAsync(app, "fr")).ShouldBe(["Mega pack", "Le petit", "Pack standard", "Pack pro"]);
        (await NamesAsync(app, "de")).ShouldBe(["Mega pack", "Startpaket", "Standardpaket", "Profipaket"]);
    }

    private static async Task<List<string>> NamesAsync(RootApp app, string language)
    {
        using var response = await app.Client(language).GetAsync("/api/v1/checkout/packs", Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!["results"]!.AsArray()
            .Select(pack => (string)pack!["name"]!).ToList();
    }
}
