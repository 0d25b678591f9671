using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Apptork.Root.Tests.Infrastructure.Categories;
using Apptork.Root.Tests.Infrastructure.Fleet;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Fleet;

/// <summary>One fleet for a whole test class: starting five processes costs more than every check together.</summary>
public abstract class FleetFixture(FleetServers servers, bool throughPgBouncer) : IAsyncLifetime
{
    /// <summary>The anonymous rate of every process, small enough for the shared-throttling check to reach it.</summary>
    public const int AnonymousLimit = 10;

    public RootFleet Fleet { get; private set; } = null!;

    public async ValueTask InitializeAsync() =>
        Fleet = await RootFleet.StartAsync(servers, new FleetOptions
        {
            Name = throughPgBouncer ? "fleet_pgbouncer" : "fleet",
            ThroughPgBouncer = throughPgBouncer,
            Settings = new Dictionary<string, string?> { ["Throttling:Rates:anon:anonymous"] = $"{AnonymousLimit}/minute" },
        });

    public async ValueTask DisposeAsync()
    {
        if (Fleet is not null)
        {
            await Fleet.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class DirectFleet(PostgresServer postgres, RedisServer redis, S3Server s3, SmtpServer smtp)
    : FleetFixture(new FleetServers(postgres, redis, s3, smtp), throughPgBouncer: false);

public sealed class PgBouncerFleet(PostgresServer postgres, RedisServer redis, S3Server s3, SmtpServer smtp)
    : FleetFixture(new FleetServers(postgres, redis, s3, smtp), throughPgBouncer: true);

/// <summary>The product's guarantees held by 3 api and 2 worker processes behind a round-robin nginx, on PostgreSQL straight.</summary>
[Long, Collection(OneFleetAtATime.Name)]
public sealed class FleetTests(DirectFleet fixture) : FleetChecks(fixture.Fleet), IClassFixture<DirectFleet>;

/// <summary>The same guarantees with every process on PgBouncer in transaction pooling mode, as large deployments run.</summary>
[Long, Collection(OneFleetAtATime.Name)]
public sealed class FleetThroughPgBouncerTests(PgBouncerFleet fixture) : FleetChecks(fixture.Fleet), IClassFixture<PgBouncerFleet>;

/// <summary>
/// End-to-end checks of a <see cref="RootFleet"/>: what one process remembers must not matter. Each check connects from
/// a loopback address of its own, so that its anonymous throttling budget is its own.
/// </summary>
public abstract class FleetChecks(RootFleet fleet)
{
    /// <summary>How soon every api process must apply an operator's change; the processes' own re-reads take seconds.</summary>
    private static readonly TimeSpan WithinASecond = TimeSpan.FromSeconds(1);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task A_code_requested_on_one_api_process_signs_in_on_another()
    {
        var client = new FleetClient(fleet.ClientFrom("127.0.0.11"), fleet.Smtp);
        var email = $"otp-{Guid.NewGuid():N}@example.com";

        var (otpToken, requested) = await client.RequestCodeAsync(email);
        var verified = (await client.VerifyAsync(otpToken, await client.CodeMailedToAsync(email))).ShouldBe(HttpStatusCode.OK);

        ApiUpstreams().ShouldContain(requested.Upstream);
        ApiUpstreams().ShouldContain(verified.Upstream);
        verified.Upstream.ShouldNotBe(requested.Upstream, "the proxy takes the api processes in turn");
        var accessToken = verified.Read<FleetClient.Tokens>().AccessToken;
        foreach (var api in fleet.Apis)
        {
            (await Direct(api, "127.0.0.11").SendAsync(HttpMethod.Get, "/api/v1/auth/me", accessToken: accessToken)).ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refresh_raced_on_two_processes_has_one_successor_and_a_reuse_is_caught_on_any()
    {
        const string source = "127.0.0.12";
        var email = $"refresh-{Guid.NewGuid():N}@example.com";
        var signedIn = await new FleetClient(fleet.ClientFrom(source), fleet.Smtp).SignInAsync(email);
        var (first, second, third) = (Direct(fleet.Apis[0], source), Direct(fleet.Apis[1], source), Direct(fleet.Apis[2], source));

        var raced = await Task.WhenAll(first.RefreshAsync(signedIn.RefreshToken), second.RefreshAsync(signedIn.RefreshToken));
        var successors = raced.Select(answer => answer.ShouldBe(HttpStatusCode.OK).Read<FleetClient.Tokens>().RefreshToken).Distinct().ToList();
        successors.Count.ShouldBe(1, "both processes hand out the one successor");
        var userId = raced[0].Read<JsonElement>().GetProperty("user").GetProperty("id").GetGuid();
        (await CountAsync("SELECT count(*) FROM sessions WHERE user_id = @user AND revoked_at IS NULL", userId)).ShouldBe(1, "the session is kept");
        (await CountAsync("SELECT count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = @user", userId))
            .ShouldBe(2, "the signed-in token, rotated, and one successor");

        var next = (await third.RefreshAsync(successors[0])).ShouldBe(HttpStatusCode.OK).Read<FleetClient.Tokens>();
        var reused = (await first.RefreshAsync(signedIn.RefreshToken)).ShouldBe(HttpStatusCode.Unauthorized);
        reused.Body.ShouldContain("token_reused");
        (await second.RefreshAsync(next.RefreshToken)).ShouldBe(HttpStatusCode.Unauthorized).Body.ShouldContain("invalid_token");
        foreach (var api in fleet.Apis)
        {
            (await TimeUntilAsync(api, source, next.AccessToken, "/api/v1/auth/me", answer => answer.Status == HttpStatusCode.Unauthorized))
                .ShouldBeLessThan(WithinASecond, $"{api.Name} still took the ended session's access token");
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task The_api_processes_share_one_throttling_count()
    {
        var client = new FleetClient(fleet.ClientFrom("127.0.0.13"), fleet.Smtp);
        var answers = new List<FleetClient.Answer>();
        // Three times the limit, six at a time, spread evenly by the proxy: processes counting alone would let every one through.
        foreach (var batch in Enumerable.Range(0, 3 * FleetFixture.AnonymousLimit).Chunk(6))
        {
            answers.AddRange(await Task.WhenAll(batch.Select(_ => client.SendAsync(HttpMethod.Get, "/api/v1/auth/whoami"))));
        }

        answers.Select(answer => answer.Upstream).Distinct().Order().ShouldBe(ApiUpstreams().Order(), "the proxy spread the requests over every api process");
        answers.Count(answer => answer.Status == HttpStatusCode.OK).ShouldBe(FleetFixture.AnonymousLimit);
        answers.Count(answer => answer.Status == HttpStatusCode.TooManyRequests).ShouldBe(2 * FleetFixture.AnonymousLimit);
    }

    [Fact(Timeout = 90_000)]
    public async Task A_flag_toggle_and_a_new_message_reach_every_api_process_within_a_second()
    {
        const string source = "127.0.0.14";
        var operatorClient = new FleetClient(fleet.ClientFrom(source), fleet.Smtp);
        var staffToken = await StaffAsync(operatorClient, $"ops-{Guid.NewGuid():N}@example.com");
        var flag = $"fleet_{Guid.NewGuid():N}"[..20];
        // Each process has read the flags and the messages before they change, as a running deployment has.
        await EveryApiAnswersAsync(staffToken, "/api/v1/feature-flags");
        await EveryApiAnswersAsync(staffToken, "/api/v1/messages");

        (await operatorClient.SendAsync(HttpMethod.Post, "/api/v1/admin/feature-flags",
            new { key = flag, enabled = true, description = new Dictionary<string, string> { ["en"] = "A fleet check" } }, staffToken)).ShouldBe(HttpStatusCode.Created);
        await EveryApiWithinASecondAsync(staffToken, "/api/v1/feature-flags", answer => FlagIs(answer, flag, true));

        (await operatorClient.SendAsync(HttpMethod.Put, $"/api/v1/admin/feature-flags/{flag}", new { enabled = false }, staffToken)).ShouldBe(HttpStatusCode.OK);
        await EveryApiWithinASecondAsync(staffToken, "/api/v1/feature-flags", answer => FlagIs(answer, flag, false));

        var title = $"Fleet check {Guid.NewGuid():N}";
        (await operatorClient.SendAsync(HttpMethod.Post, "/api/v1/admin/messages", new
        {
            severity = "info",
            title = new Dictionary<string, string> { ["en"] = title },
            body = new Dictionary<string, string> { ["en"] = "Seen by every process." },
        }, staffToken)).ShouldBe(HttpStatusCode.Created);
        await EveryApiWithinASecondAsync(staffToken, "/api/v1/messages", answer => answer.Status == HttpStatusCode.OK && answer.Body.Contains(title, StringComparison.Ordinal));
    }

    private IReadOnlyList<string> ApiUpstreams() => [.. fleet.Apis.Select(api => api.Upstream)];

    /// <summary>Straight to one process, from <paramref name="source"/>.</summary>
    private FleetClient Direct(FleetProcess process, string source) => new(ClientFrom.Address(source, process.BaseAddress), fleet.Smtp);

    /// <summary>A staff member's access token as an operator makes one: sign in, <c>set-role</c> (ending the session), sign in again.</summary>
    private async Task<string> StaffAsync(FleetClient client, string email)
    {
        await client.SignInAsync(email);
        var promoted = await fleet.RunAsync(["set-role", email, "staff"]);
        promoted.ExitCode.ShouldBe(0, promoted.Output);
        return (await client.SignInAsync(email)).AccessToken;
    }

    private async Task EveryApiAnswersAsync(string accessToken, string path)
    {
        foreach (var api in fleet.Apis)
        {
            (await Direct(api, "127.0.0.14").SendAsync(HttpMethod.Get, path, accessToken: accessToken)).ShouldBe(HttpStatusCode.OK);
        }
    }

    /// <summary>
    /// Times, from now, how long each api process takes to answer <paramref name="path"/> as <paramref name="changed"/>
    /// says, all asked at once, each every 20 ms; fails when one takes more than a second.
    /// </summary>
    private async Task EveryApiWithinASecondAsync(string accessToken, string path, Func<FleetClient.Answer, bool> changed)
    {
        var took = await Task.WhenAll(fleet.Apis.Select(api => TimeUntilAsync(api, "127.0.0.14", accessToken, path, changed)));
        TestContext.Current.TestOutputHelper?.WriteLine($"{path}: {string.Join(", ", took.Select(elapsed => $"{elapsed.TotalMilliseconds:0} ms"))}");
        foreach (var (api, elapsed) in fleet.Apis.Zip(took))
        {
            elapsed.ShouldBeLessThan(WithinASecond, $"{api.Name} applied the change of {path} after {elapsed.TotalMilliseconds:0} ms");
        }
    }

    private async Task<TimeSpan> TimeUntilAsync(FleetProcess api, string source, string accessToken, string path, Func<FleetClient.Answer, bool> changed)
    {
        var client = Direct(api, source);
        var clock = Stopwatch.StartNew();
        while (!changed(await client.SendAsync(HttpMethod.Get, path, accessToken: accessToken)))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                break;
            }

            await Task.Delay(20, Cancel);
        }

        return clock.Elapsed;
    }

    private static bool FlagIs(FleetClient.Answer answer, string flag, bool on) =>
        answer.Status == HttpStatusCode.OK
        && answer.Read<JsonElement>().GetProperty("flags").TryGetProperty(flag, out var value) && value.GetBoolean() == on;

    private async Task<long> CountAsync(string sql, Guid userId)
    {
        await using var connection = new NpgsqlConnection(fleet.ConnectionString);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("user", userId);
        return (long)(await command.ExecuteScalarAsync(Cancel))!;
    }
}
