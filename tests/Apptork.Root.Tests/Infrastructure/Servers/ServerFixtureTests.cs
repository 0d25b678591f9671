using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Xml.Linq;
using Apptork.Root.Tests.Infrastructure.Hosting;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Npgsql;
using Shouldly;
using StackExchange.Redis;
using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Servers;

public sealed class ServerFixtureTests(PostgresServer postgres, RedisServer redis, S3Server s3, SmtpServer smtp)
{
    private static readonly HttpClient Http = new();

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Postgres_creates_distinct_databases_that_do_not_see_each_other()
    {
        var first = await postgres.CreateDatabaseAsync("fixture");
        var second = await postgres.CreateDatabaseAsync("fixture");
        try
        {
            first.ShouldNotBe(second);
            await ExecuteAsync(first, "CREATE TABLE marker (id int); INSERT INTO marker VALUES (42)");

            (await QueryAsync<int>(first, "SELECT id FROM marker")).ShouldBe(42);
            (await QueryAsync<bool>(second, "SELECT to_regclass('public.marker') IS NULL")).ShouldBeTrue();
        }
        finally
        {
            await postgres.DropDatabaseAsync(first);
            await postgres.DropDatabaseAsync(second);
        }
    }

    [Fact]
    public async Task Postgres_is_version_15_or_newer()
    {
        (await QueryAsync<string>(postgres.AdminConnectionString, "SELECT version()")).ShouldStartWith("PostgreSQL ");
        var versionNumber = int.Parse(await QueryAsync<string>(postgres.AdminConnectionString, "SHOW server_version_num"), CultureInfo.InvariantCulture);
        versionNumber.ShouldBeGreaterThanOrEqualTo(150000);
    }

    [Fact]
    public async Task Postgres_drops_a_database_even_while_a_connection_is_open()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var open = new NpgsqlConnection(connectionString);
        await open.OpenAsync(Cancellation);

        await postgres.DropDatabaseAsync(connectionString);

        var error = await Should.ThrowAsync<PostgresException>(() => QueryAsync<int>(connectionString, "SELECT 1"));
        error.SqlState.ShouldBe(PostgresErrorCodes.InvalidCatalogName);
    }

    [Fact]
    public async Task Redis_round_trips_a_value()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var database = connection.GetDatabase();
        var key = $"fixture-test:{Guid.NewGuid():N}";

        (await database.StringSetAsync(key, "value", TimeSpan.FromMinutes(1))).ShouldBeTrue();

        ((string?)await database.StringGetAsync(key)).ShouldBe("value");
    }

    [Fact]
    public async Task Redis_stops_and_starts_again_on_the_same_port()
    {
        // An instance of its own: the shared one serves other tests in parallel.
        await using var outage = new RedisServer();
        await outage.InitializeAsync();
        var connectionString = outage.ConnectionString;
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(connectionString))
        {
            await connection.GetDatabase().StringSetAsync("before-outage", "1");
        }

        await outage.StopAsync();
        var refused = await Should.ThrowAsync<SocketException>(() => ConnectAsync(connectionString));
        refused.SocketErrorCode.ShouldBe(SocketError.ConnectionRefused);

        await outage.StartAsync();
        outage.ConnectionString.ShouldBe(connectionString);
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(connectionString))
        {
            var database = connection.GetDatabase();
            (await database.KeyExistsAsync("before-outage")).ShouldBeFalse("a restarted server starts empty (no persistence)");
            (await database.StringSetAsync("after-outage", "2")).ShouldBeTrue();
        }
    }

    [Fact]
    public async Task S3_lists_its_default_bucket()
    {
        using var response = await Http.GetAsync(new Uri($"{s3.ServiceUrl}/{s3.Bucket}"), Cancellation);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var listing = XDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        listing.Root!.Name.LocalName.ShouldBe("ListBucketResult");
        Child(listing.Root, "Name").ShouldBe(s3.Bucket);
    }

    [Fact]
    public async Task S3_stores_and_returns_an_object_byte_for_byte()
    {
        var objectUri = new Uri($"{s3.ServiceUrl}/{s3.Bucket}/fixture-test/{Guid.NewGuid():N}.bin");
        var bytes = new byte[70_000];
        new Random(TestSeed.Next()).NextBytes(bytes);

        using (var put = await Http.PutAsync(objectUri, new ByteArrayContent(bytes), Cancellation))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        (await Http.GetByteArrayAsync(objectUri, Cancellation)).ShouldBe(bytes);
    }

    [Fact]
    public async Task S3_answers_an_unknown_bucket_with_an_S3_error()
    {
        using var response = await Http.GetAsync(new Uri($"{s3.ServiceUrl}/no-such-bucket-{Guid.NewGuid():N}"), Cancellation);

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        Child(XDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).Root!, "Code").ShouldBe("NoSuchBucket");
    }

    [Fact]
    public async Task S3_refuses_a_request_with_a_wrong_signature()
    {
        var now = DateTime.UtcNow;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{s3.ServiceUrl}/{s3.Bucket}"));
        request.Headers.Add("x-amz-date", now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture));
        request.Headers.Add("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
        request.Headers.TryAddWithoutValidation("Authorization",
            $"AWS4-HMAC-SHA256 Credential={s3.AccessKey}/{now:yyyyMMdd}/us-east-1/s3/aws4_request, " +
            $"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={new string('0', 64)}");

        using var response = await Http.SendAsync(request, Cancellation);

        response.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        Child(XDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).Root!, "Code").ShouldBe("SignatureDoesNotMatch");
    }

    [Fact]
    public async Task Smtp_parses_what_it_receives_envelope_headers_and_both_bodies()
    {
        var to = $"fixture-{Guid.NewGuid():N}@example.com";
        using var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Fixture Test", "fixture@example.com"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "Prüfung <1>";
        message.Body = new BodyBuilder { TextBody = "plain ü", HtmlBody = "<p>html ü</p>" }.ToMessageBody();

        using (var client = await ConnectSmtpAsync())
        {
            await client.AuthenticateAsync("fixture-user", "any password", Cancellation);
            await client.SendAsync(message, Cancellation);
            await client.DisconnectAsync(quit: true, Cancellation);
        }

        var mail = await smtp.WaitForMessageAsync(received => received.To.Contains(to), TimeSpan.FromSeconds(10));
        mail.EnvelopeFrom.ShouldBe("fixture@example.com");
        mail.EnvelopeTo.ShouldBe([to]);
        mail.AuthUser.ShouldBe("fixture-user");
        mail.FromName.ShouldBe("Fixture Test");
        mail.Subject.ShouldBe("Prüfung <1>");
        mail.ContentType.ShouldBe("multipart/alternative");
        mail.Text.ShouldBe("plain ü");
        mail.Html.ShouldBe("<p>html ü</p>");
    }

    [Fact]
    public async Task Smtp_refuses_greylist_recipients_once_and_reject_recipients_always()
    {
        var greylisted = $"greylist-{Guid.NewGuid():N}@example.com";
        var rejected = $"reject-{Guid.NewGuid():N}@example.com";
        using var client = await ConnectSmtpAsync();

        (await Should.ThrowAsync<SmtpCommandException>(() => SendAsync(client, greylisted))).StatusCode.ShouldBe(SmtpStatusCode.ErrorInProcessing);
        await SendAsync(client, greylisted);
        (await Should.ThrowAsync<SmtpCommandException>(() => SendAsync(client, rejected))).StatusCode.ShouldBe(SmtpStatusCode.MailboxUnavailable);
        (await Should.ThrowAsync<SmtpCommandException>(() => SendAsync(client, rejected))).StatusCode.ShouldBe(SmtpStatusCode.MailboxUnavailable);

        await smtp.WaitForMessageAsync(received => received.To.Contains(greylisted), TimeSpan.FromSeconds(10));
        smtp.Received.ShouldNotContain(received => received.To.Contains(rejected));
    }

    [Fact]
    public async Task A_server_that_exits_before_it_is_ready_fails_with_its_command_and_output()
    {
        await using var doomed = ServerProcess.Start("Doomed server", "TERM",
            [ServerHost.RequireExecutable("sh", "test"), "-c", "echo cannot bind >&2; exit 3"]);

        var error = await Should.ThrowAsync<InvalidOperationException>(() => doomed.WaitUntilReadyAsync(_ => Task.FromResult(false)));

        error.Message.ShouldContain("Doomed server exited with code 3 before it was ready");
        error.Message.ShouldContain("sh -c 'echo cannot bind >&2; exit 3'\n");
        error.Message.ShouldEndWith("\ncannot bind");
    }

    [Fact]
    public async Task A_server_that_never_gets_ready_times_out_and_is_stopped()
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await using (var sleepy = ServerProcess.Start("Sleepy server", "TERM", [ServerHost.RequireExecutable("sleep", "test"), "300"]))
        {
            var error = await Should.ThrowAsync<TimeoutException>(
                () => sleepy.WaitUntilReadyAsync(_ => Task.FromResult(false), TimeSpan.FromMilliseconds(300)));
            error.Message.ShouldContain("Sleepy server was not ready within 0.3 s");
        }

        stopwatch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(3), "closing the lifeline stops the server at once");
    }

    [Fact]
    public void A_missing_server_binary_says_to_run_test_sh()
    {
        var error = Should.Throw<InvalidOperationException>(() => ServerHost.RequireExecutable("apptork-no-such-server", "Imaginary server"));

        error.Message.ShouldContain("Imaginary server: the executable 'apptork-no-such-server' was not found");
        error.Message.ShouldContain("./test.sh");
    }

    private async Task<SmtpClient> ConnectSmtpAsync()
    {
        var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host, smtp.Port, SecureSocketOptions.None, Cancellation);
        return client;
    }

    private static async Task SendAsync(SmtpClient client, string to)
    {
        using var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("fixture@example.com"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = "fixture";
        message.Body = new TextPart("plain") { Text = "fixture" };
        await client.SendAsync(message, Cancellation);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private static async Task<T> QueryAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancellation))!;
    }

    private static async Task ConnectAsync(string hostAndPort)
    {
        using var client = new TcpClient();
        var port = int.Parse(hostAndPort[(hostAndPort.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
        await client.ConnectAsync(IPAddress.Loopback, port, Cancellation);
    }

    private static string Child(XElement parent, string localName) =>
        parent.Elements().Single(element => element.Name.LocalName == localName).Value;
}
