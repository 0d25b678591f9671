using System.Net;
using Apptork.Root.Tests.Infrastructure.Hosting;
using Apptork.Root.Tests.Infrastructure.Servers;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Email;

/// <summary>The real binary with email settings that cannot work: it refuses to start in one sentence naming the setting, exit code 78.</summary>
public sealed class EmailStartupTests(PostgresServer postgres, SmtpServer smtp)
{
    private const int ConfigurationExitCode = 78;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    // Valid enough to pass the database checks, which come first; refused before anything connects to it.
    private const string ProductionShape = "Database__Provider=Postgres|ConnectionStrings__Postgres=Host=127.0.0.1;Port=1;Database=apptork;Username=apptork;Password=kX9-unguessable|Storage__Provider=Local|Http__PublicBaseUrl=http://127.0.0.1";

    [Theory]
    [InlineData(ProductionShape,
        "Email__Provider is Log (the default), which works only in the embedded shape; set Email__Provider=Smtp and Email__Smtp__Host.")]
    [InlineData(ProductionShape + "|Email__Provider=log",
        "Email__Provider is Log (the default), which works only in the embedded shape; set Email__Provider=Smtp and Email__Smtp__Host.")]
    [InlineData("Email__Provider=Smtp",
        "Email__Smtp__Host is required when Email__Provider=Smtp (e.g. smtp.example.com).")]
    [InlineData("Email__From=Apptork Root",
        "Email__From is 'Apptork Root', which is not one email address; use e.g. \"My App <no-reply@example.com>\".")]
    [InlineData("Email__From=a@example.com, b@example.com",
        "Email__From is 'a@example.com, b@example.com', which is not one email address; use e.g. \"My App <no-reply@example.com>\".")]
    [InlineData("Email__Provider=Pigeon",
        "Email__Provider is 'Pigeon', which is not one of Log, Smtp.")]
    [InlineData("Email__Provider=7",
        "Email__Provider is '7'; use Log (embedded shape only) or Smtp.")]
    [InlineData("Email__Provider=Smtp|Email__Smtp__Host=smtp.example.com|Email__Smtp__Port=submission",
        "Email__Smtp__Port is 'submission', which is not a whole number.")]
    [InlineData("Email__Smtp__UseTls=yes",
        "Email__Smtp__UseTls is 'yes', which is not true or false.")]
    [InlineData("Email__Smtp__Port=0|Http__MaxRequestBodyBytes=10",
        "Http__MaxRequestBodyBytes: The field MaxRequestBodyBytes must be between 1024 and 1073741824. Email__Smtp__Port: The field Port must be between 1 and 65535.")]
    public async Task Email_settings_that_cannot_work_stop_the_process_with_one_sentence(string settings, string refusal)
    {
        var result = await RootProcess.RunAsync([], Settings(settings), Patience, Scratch());

        result.ExitCode.ShouldBe(ConfigurationExitCode, result.Output);
        result.Output.Trim().ShouldBe($"Refusing to start: {refusal}");
    }

    [Fact]
    public async Task The_production_shape_starts_with_smtp_and_migrates_without_any_email_setting()
    {
        var database = await TestDatabases.For(postgres).CreateEmptyPostgresAsync("email_production");
        var migrate = await TestDatabases.MigrateWithCommandAsync(database);
        migrate.ExitCode.ShouldBe(0, "migrate composes the application but never reads the email settings");

        var url = FreeUrl();
        await using var process = RootProcess.Start([], Settings(
            $"Database__Provider=Postgres|ConnectionStrings__Postgres={database}|Urls={url}|Email__Provider=Smtp|Email__Smtp__Host={smtp.Host}|Email__Smtp__Port={smtp.Port}|Email__Smtp__UseTls=false|Storage__Provider=Local|Http__PublicBaseUrl=http://127.0.0.1"),
            Scratch());
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var deadline = DateTimeOffset.UtcNow + Patience;
        HttpStatusCode? status = null;
        while (status != HttpStatusCode.OK && DateTimeOffset.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("/healthz/ready", UriKind.Relative), TestContext.Current.CancellationToken);
                status = response.StatusCode;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        status.ShouldBe(HttpStatusCode.OK, process.Output);
        process.Output.ShouldContain("production shape");
    }

    /// <summary><c>Name=value|Name=value</c>; a value may itself contain '=' and ';'.</summary>
    /// <summary>The settings under test, on top of the sign-in secrets every production-shape process needs.</summary>
    private static Dictionary<string, string> Settings(string settings)
    {
        var all = new Dictionary<string, string>(TestSecrets.Environment);
        foreach (var pair in settings.Split('|').Select(setting => setting.Split('=', 2)))
        {
            all[pair[0]] = pair[1];
        }

        return all;
    }

    private static string Scratch() => RootProcess.ScratchDirectory("apptork-email-start-");

    private static string FreeUrl() => RootProcess.FreeLoopbackUrl();
}
