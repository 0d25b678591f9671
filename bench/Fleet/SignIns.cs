using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Fleet;

/// <summary>
/// Email-code sign-ins as an app makes them: <c>POST /auth/otp/request</c>, the code read from the mail, then
/// <c>POST /auth/otp/verify</c> for the token pair. Each client signs in again and again as one returning user of its
/// own (<c>fleet-&lt;n&gt;@example.com</c>, an account since its first sign-in), so no two sign-ins race for one address.
/// </summary>
internal static class SignIns
{
    /// <summary>A mail later than this is a fault of the run, not a slow sign-in.</summary>
    private static readonly TimeSpan MailTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <paramref name="concurrency"/> clients, their mail received on <paramref name="smtpPort"/>, each starting its next
    /// sign-in as soon as its last one finished, until the shared stopwatch passes <paramref name="duration"/>; sign-ins
    /// per second. A 503 (sign-in codes fail closed when Redis does not answer in time, as on an overloaded machine)
    /// starts the sign-in over, its time counted and the sign-in not; any other failure ends the run.
    /// </summary>
    public static async Task<double> MeasureAsync(Uri baseAddress, int smtpPort, TimeSpan duration, int concurrency)
    {
        await using var mail = MailSink.Listen(smtpPort);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = baseAddress };
        using var failed = new CancellationTokenSource();
        var stopwatch = Stopwatch.StartNew();
        long unavailable = 0;
        var completed = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(index => Task.Run(() => SignInRepeatedlyAsync($"fleet-{index}@example.com"))));
        var rate = completed.Sum() / stopwatch.Elapsed.TotalSeconds;
        if (unavailable > 0)
        {
            await Console.Error.WriteLineAsync($"{unavailable} answer(s) 503 service_unavailable, their sign-ins started over");
        }

        return rate;

        async Task<long> SignInRepeatedlyAsync(string email)
        {
            long signIns = 0;
            try
            {
                while (!failed.IsCancellationRequested && stopwatch.Elapsed < duration)
                {
                    try
                    {
                        await SignInAsync(client, mail, email, failed.Token);
                        signIns++;
                    }
                    catch (UnavailableException)
                    {
                        Interlocked.Increment(ref unavailable);
                    }
                }
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }

            return signIns;
        }
    }

    private static async Task SignInAsync(HttpClient client, MailSink mail, string email, CancellationToken cancellationToken)
    {
        // Waiting for the mail starts before the request, which may have it sent before it answers.
        var code = mail.NextCodeFor(email);
        using var requested = await client.PostAsJsonAsync(
            "/api/v1/auth/otp/request", new Dictionary<string, string> { ["email"] = email }, cancellationToken);
        var challenge = await ReadAsync(requested, HttpStatusCode.Accepted, cancellationToken);
        using var verified = await client.PostAsJsonAsync(
            "/api/v1/auth/otp/verify",
            new Dictionary<string, string?>
            {
                ["otp_token"] = challenge.GetProperty("otp_token").GetString(),
                ["code"] = await code.WaitAsync(MailTimeout, cancellationToken),
            },
            cancellationToken);
        var tokens = await ReadAsync(verified, HttpStatusCode.OK, cancellationToken);
        if (tokens.GetProperty("access_token").GetString() is not { Length: > 0 })
        {
            throw new InvalidOperationException($"POST /auth/otp/verify for {email} answered no access token");
        }
    }

    /// <summary>The answer's JSON; any other status stops the run, since a refused sign-in costs less than one that went through.</summary>
    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            throw new UnavailableException();
        }

        if (response.StatusCode != expected)
        {
            throw new InvalidOperationException(
                $"{response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }
}

/// <summary>A 503 answer: the sign-in starts over.</summary>
internal sealed class UnavailableException : Exception;
