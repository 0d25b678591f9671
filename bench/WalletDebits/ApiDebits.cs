using System.Net.Http.Headers;
using Apptork.Root.Platform.Idempotency;

namespace WalletDebits;

/// <summary>The measured path: one debit as an app sends it, a bearer token and a fresh Idempotency-Key per request.</summary>
internal sealed class ApiDebits(HttpClient client)
{
    public async Task DebitAsync(string accessToken, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ProductHost.DebitPath);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Add(IdempotencyMiddleware.Header, idempotencyKey);
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            // A refused debit is cheaper than a posted one: counting it, or going on without it, would flatter the API.
            throw new InvalidOperationException(
                $"POST {ProductHost.DebitPath} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
