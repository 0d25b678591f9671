using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Apptork.Root.Platform.Email;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Email;

/// <summary>Mail through the real host and its email queue, to a real SMTP server (or to none), as an operator configures it.</summary>
public sealed class EmailDeliveryTests(PostgresServer postgres, SmtpServer smtp)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly CultureInfo Spanish = CultureInfo.GetCultureInfo("es");
    private static readonly CultureInfo English = CultureInfo.GetCultureInfo("en");

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_Spanish_sign_in_code_reaches_the_SMTP_server_in_Spanish_as_text_and_encoded_HTML()
    {
        await using var app = await StartAsync(SmtpSettings(smtp.Port, ("Email:From", "\"Tom <&> Jerry\" <app@example.com>")));
        var to = $"ana.{Guid.NewGuid():N}@example.com";
        var message = app.Services.GetRequiredService<EmailTemplates>().SignInCode(to, "482913", TimeSpan.FromMinutes(10), Spanish);

        var clock = Stopwatch.StartNew();
        app.Services.GetRequiredService<IEmailQueue>().Enqueue(message).ShouldBeTrue();
        var queued = clock.Elapsed;
        var mail = await smtp.WaitForMessageAsync(received => received.To.Contains(to), Patience);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Enqueue returned after {queued.TotalMilliseconds:0.###} ms; the SMTP server had the message after {clock.Elapsed.TotalMilliseconds:0} ms");

        mail.Subject.ShouldBe("Su código para iniciar sesión en Tom <&> Jerry");
        mail.FromName.ShouldBe("Tom <&> Jerry");
        mail.FromAddress.ShouldBe("app@example.com");
        mail.EnvelopeFrom.ShouldBe("app@example.com");
        mail.EnvelopeTo.ShouldBe([to]);
        mail.AuthUser.ShouldBeNull("no Email__Smtp__Username, no AUTH");
        mail.ContentType.ShouldBe("multipart/alternative");
        mail.AutoSubmitted.ShouldBe("auto-generated");
        mail.MessageId.ShouldNotBeNull().ShouldEndWith("@example.com>");

        mail.Text.ShouldNotBeNull().ShouldContain("Use este código para iniciar sesión en Tom <&> Jerry:");
        mail.Text.ShouldContain("\n482913\n");
        mail.Text.ShouldContain("Es válido durante 10 minutos y solo puede usarse una vez.");
        mail.Text.ShouldContain("Si no ha solicitado este código, puede ignorar este correo sin problema.");

        var html = mail.Html.ShouldNotBeNull();
        html.ShouldContain("<html lang=\"es\">");
        html.ShouldContain("<title>Su código para iniciar sesión en Tom &lt;&amp;&gt; Jerry</title>");
        html.ShouldContain("Use este código para iniciar sesión en Tom &lt;&amp;&gt; Jerry:</p>");
        html.ShouldNotContain("Tom <&> Jerry");
        html.ShouldContain(">482913</p>");
        html.ShouldContain("Es válido durante 10 minutos");
    }

    [Fact]
    public async Task Smtp_credentials_are_used_when_a_username_is_set()
    {
        await using var app = await StartAsync(SmtpSettings(smtp.Port, ("Email:Smtp:Username", "apptork-mailer"), ("Email:Smtp:Password", "relay password")));
        var to = $"creds.{Guid.NewGuid():N}@example.com";

        Enqueue(app, to, "120456", English);

        var mail = await smtp.WaitForMessageAsync(received => received.To.Contains(to), Patience);
        mail.AuthUser.ShouldBe("apptork-mailer");
        mail.FromAddress.ShouldBe("no-reply@localhost", "the default Email__From");
        mail.Subject.ShouldBe("Your Apptork Root sign-in code");
    }

    [Fact]
    public async Task The_production_shape_sends_through_SMTP()
    {
        await using var app = await RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Postgres);
        var to = $"prod.{Guid.NewGuid():N}@example.com";

        Enqueue(app, to, "902211", CultureInfo.GetCultureInfo("pt-BR"));

        var mail = await smtp.WaitForMessageAsync(received => received.To.Contains(to), Patience);
        mail.Subject.ShouldBe("Seu código para entrar em Apptork Root");
        mail.Text.ShouldNotBeNull().ShouldContain("902211");
        app.Logs.Entries.ShouldNotContain(entry => entry.Category == typeof(LogEmailSender).FullName);
    }

    [Fact]
    public async Task With_the_log_provider_the_developer_reads_the_code_in_the_log()
    {
        await using var app = await StartAsync([]);
        var to = $"dev.{Guid.NewGuid():N}@example.com";

        Enqueue(app, to, "731054", English);

        var entry = await WaitForLogAsync(app, entry => entry.Category == typeof(LogEmailSender).FullName);
        entry.Level.ShouldBe(LogLevel.Information);
        entry.Message.ShouldContain(to);
        entry.Message.ShouldContain("Your Apptork Root sign-in code");
        entry.Message.ShouldContain("731054");
    }

    [Fact]
    public async Task An_unreachable_SMTP_server_is_retried_then_reported_masked_without_the_code_while_the_app_serves()
    {
        var closedPort = ServerHost.FreeLoopbackPort();
        await using var app = await StartAsync(SmtpSettings(closedPort));
        var to = $"jane.{Guid.NewGuid():N}@example.com";
        var clock = Stopwatch.StartNew();

        Enqueue(app, to, "559201", English);

        using (var response = await app.Client().GetAsync(new Uri("/healthz/live", UriKind.Relative), Cancellation))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var failure = await WaitForLogAsync(app, entry => entry.Category == typeof(BackgroundEmailQueue).FullName && entry.Level == LogLevel.Error);
        TestContext.Current.TestOutputHelper?.WriteLine($"final failure logged after {clock.ElapsedMilliseconds} ms: {failure.Message}");
        failure.Message.ShouldContain("Email to j***@example.com was not sent (gave up after 4 attempt(s))");
        failure.Message.ShouldContain("Connection refused");
        failure.Exception.ShouldBeNull("the exception's text could quote the address");
        app.Logs.Entries.Count(entry => entry.Level == LogLevel.Warning && entry.Message.Contains("j***@example.com failed on attempt", StringComparison.Ordinal))
            .ShouldBe(3);
        ShouldNotHaveLogged(app, to, "559201");

        using (var response = await app.Client().GetAsync(new Uri("/healthz/live", UriKind.Relative), Cancellation))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task A_silent_SMTP_server_times_out_without_holding_up_the_request_that_enqueued()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        await using var app = await StartAsync(SmtpSettings(port, ("Email:Smtp:TimeoutSeconds", "1")));
        var to = $"slow.{Guid.NewGuid():N}@example.com";

        var clock = Stopwatch.StartNew();
        Enqueue(app, to, "664201", English);
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMilliseconds(500), "enqueueing never waits for SMTP");

        var failure = await WaitForLogAsync(app, entry => entry.Category == typeof(BackgroundEmailQueue).FullName && entry.Level == LogLevel.Error);
        TestContext.Current.TestOutputHelper?.WriteLine($"final failure logged after {clock.ElapsedMilliseconds} ms: {failure.Message}");
        failure.Message.ShouldContain("Email to s***@example.com was not sent (gave up after 4 attempt(s))");
        ShouldNotHaveLogged(app, to, "664201");
    }

    [Fact]
    public async Task A_greylisting_refusal_is_retried_and_the_message_is_delivered_once()
    {
        await using var app = await StartAsync(SmtpSettings(smtp.Port));
        var to = $"greylist.{Guid.NewGuid():N}@example.com";

        Enqueue(app, to, "300117", English);

        await smtp.WaitForMessageAsync(received => received.To.Contains(to), Patience);
        var retry = app.Logs.Entries.Single(entry => entry.Level == LogLevel.Warning && entry.Category == typeof(BackgroundEmailQueue).FullName);
        retry.Message.ShouldContain("Email to g***@example.com failed on attempt 1 of 4: SMTP 451");
        await WaitForLogAsync(app, entry => entry.Message.StartsWith("Email to g***@example.com sent (attempt 2", StringComparison.Ordinal));
        smtp.Received.Count(received => received.To.Contains(to)).ShouldBe(1);
        ShouldNotHaveLogged(app, to, "300117");
    }

    [Fact]
    public async Task A_permanent_refusal_is_not_retried_and_the_servers_reply_is_logged_with_the_address_masked()
    {
        await using var app = await StartAsync(SmtpSettings(smtp.Port));
        var to = $"reject.{Guid.NewGuid():N}@example.com";

        Enqueue(app, to, "808808", English);

        var failure = await WaitForLogAsync(app, entry => entry.Category == typeof(BackgroundEmailQueue).FullName && entry.Level == LogLevel.Error);
        failure.Message.ShouldContain("Email to r***@example.com was not sent (permanent failure after 1 attempt(s)): SMTP 550");
        failure.Message.ShouldContain("<r***@example.com>: mailbox unavailable", Case.Sensitive, "the server quoted the address; the log masks it");
        app.Logs.Entries.ShouldNotContain(entry => entry.Level == LogLevel.Warning && entry.Category == typeof(BackgroundEmailQueue).FullName);
        ShouldNotHaveLogged(app, to, "808808");
    }

    [Fact]
    public async Task A_graceful_stop_sends_everything_already_queued()
    {
        var app = await StartAsync(SmtpSettings(smtp.Port));
        var batch = Guid.NewGuid().ToString("N");
        var recipients = Enumerable.Range(1, 20).Select(number => $"drain{number}.{batch}@example.com").ToList();
        foreach (var recipient in recipients)
        {
            Enqueue(app, recipient, "246810", English);
        }

        await app.DisposeAsync();

        // Sent before the stop returned: nothing is awaited after it.
        var received = smtp.Received.SelectMany(mail => mail.To).Where(address => address.Contains(batch, StringComparison.Ordinal)).ToList();
        received.Order(StringComparer.Ordinal).ShouldBe(recipients.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_email_queue_refuses_a_recipient_that_is_not_one_address()
    {
        await using var app = await StartAsync([]);
        var emailQueue = app.Services.GetRequiredService<IEmailQueue>();

        Should.Throw<ArgumentException>(() => emailQueue.Enqueue(new EmailMessage("someone", "subject", "text", "<p>html</p>")));
        Should.Throw<ArgumentException>(() => emailQueue.Enqueue(new EmailMessage("a@example.com, b@example.com", "subject", "text", "<p>html</p>")));
    }

    private Task<RootApp> StartAsync(Dictionary<string, string?> settings) =>
        RootApp.StartAsync(TestDatabases.For(postgres), DatabaseShape.Sqlite, settings);

    private static Dictionary<string, string?> SmtpSettings(int port, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Email:Provider"] = "Smtp",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    private static void Enqueue(RootApp app, string to, string code, CultureInfo culture)
    {
        var message = app.Services.GetRequiredService<EmailTemplates>().SignInCode(to, code, TimeSpan.FromMinutes(10), culture);
        app.Services.GetRequiredService<IEmailQueue>().Enqueue(message).ShouldBeTrue();
    }

    private static async Task<CapturedLogs.LogEntry> WaitForLogAsync(RootApp app, Func<CapturedLogs.LogEntry, bool> match)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (app.Logs.Entries.FirstOrDefault(match) is { } entry)
            {
                return entry;
            }

            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException($"No such log entry within {Patience.TotalSeconds} s. Logged:\n{string.Join('\n', app.Logs.Entries.Select(logged => logged.Message))}");
            }

            await Task.Delay(20, Cancellation);
        }
    }

    private static void ShouldNotHaveLogged(RootApp app, string address, string code)
    {
        foreach (var entry in app.Logs.Entries)
        {
            var text = $"{entry.Message} {entry.Exception}";
            text.ShouldNotContain(address, Case.Insensitive);
            text.ShouldNotContain(code);
        }
    }
}
