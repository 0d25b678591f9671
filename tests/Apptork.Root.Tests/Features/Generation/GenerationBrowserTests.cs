using System.Net.Http.Json;
using System.Text.Json;
using Apptork.Root.Features.Wallet;
using Apptork.Root.Tests.Features.Auth;
using Apptork.Root.Tests.Features.Wallet;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Microsoft.Playwright;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Generation;

/// <summary>
/// A browser follows a text generation as the docs show a web app doing it: Debian's Chromium opens the signed stream
/// URL with its own <c>EventSource</c> and builds the answer from the <c>delta</c> events, in the embedded shape with the
/// offline provider (no key anywhere).
/// </summary>
public sealed class GenerationBrowserTests
{
    private const string FollowInPage = """
        (url) => new Promise((resolve, reject) => {
          const events = new EventSource(url);
          let text = "";
          const indexes = [];
          events.addEventListener("delta", (event) => {
            const delta = JSON.parse(event.data);
            indexes.push(delta.index);
            text += delta.text;
          });
          events.addEventListener("restarted", () => { text = ""; });
          events.addEventListener("generation", (event) => {
            const generation = JSON.parse(event.data);
            if (generation.status === "succeeded" || generation.status === "failed") {
              events.close();
              resolve({ text, indexes, status: generation.status, result_text: generation.result_text });
            }
          });
          events.onerror = () => { events.close(); reject(new Error("the event stream failed")); };
        })
        """;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 120_000), Long]
    public async Task A_browser_EventSource_builds_the_answer_from_its_deltas()
    {
        await using var app = await RootApp.StartOnAsync(DatabaseShape.Sqlite, TestDatabases.CreateSqlite("generation-browser"), new Dictionary<string, string?>
        {
            ["Throttling:Rates:user:free"] = "unlimited",
            ["Storage:LocalPath"] = Directory.CreateTempSubdirectory("apptork-generation-browser-").FullName,
        });
        var signedIn = await new AuthClient(app).SignInAsync("browser-reader@example.com");
        await new WalletBooks(app).PostAsync(signedIn.User.Id, 3, "grant", LedgerEntryKind.Adjustment);
        var client = new GenerationClient(app, signedIn.AccessToken);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright, "the streaming browser test");
        var page = await browser.NewPageAsync();
        // A page of the API's own origin, as a web app served beside it: EventSource then needs no CORS.
        await page.GotoAsync(new Uri(app.Client().BaseAddress!, "/healthz/live").ToString());

        // Long enough that the offline provider (a pause before each word) is still writing when the page follows.
        const string Prompt = "write me a few words about rivers, mountains, valleys, forests, lakes, meadows, deserts, glaciers and the sea";
        var created = await client.CreateOkAsync("text", Prompt);
        using var signing = await client.PostRawAsync($"/api/v1/generations/{created.Id}/stream-url");
        var streamUrl = (await signing.Content.ReadFromJsonAsync<SignedStream>(TestJson.Options, Cancel))!.StreamUrl;
        var followed = (await page.EvaluateAsync<JsonElement>(FollowInPage, streamUrl.ToString())).Deserialize<Followed>(TestJson.Options)!;

        followed.Status.ShouldBe("succeeded");
        followed.ResultText.ShouldBe($"[offline] A generated answer to: {Prompt}");
        followed.Text.ShouldBe(followed.ResultText);
        followed.Indexes.ShouldBe(Enumerable.Range(0, followed.Indexes.Length));
        followed.Indexes.Length.ShouldBeGreaterThan(1, "the offline provider streams word by word");
    }

    private sealed record SignedStream(Uri StreamUrl);

    private sealed record Followed(string Text, int[] Indexes, string Status, string? ResultText);
}
