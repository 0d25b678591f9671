// Usage: dotnet KiotaFlow.dll BASE_URL EMAIL PROMPT, then the emailed sign-in code on standard input once it prints
// "awaiting-code". Ends with one JSON line of what it saw, or exits non-zero with the API's error on standard error.
using System.Text.Json.Nodes;
using Apptork.Client;
using Apptork.Client.Models;
using KiotaFlow;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Abstractions.Serialization;
using Microsoft.Kiota.Http.HttpClientLibrary;

var baseUrl = new Uri(args[0]);
var (email, prompt) = (args[1], args[2]);
var tokens = new SessionTokens(baseUrl);
using var adapter = new HttpClientRequestAdapter(new BaseBearerTokenAuthenticationProvider(tokens)) { BaseUrl = baseUrl.ToString().TrimEnd('/') };
var api = new ApptorkClient(adapter).Api.V1;

try
{
    var requested = await api.Auth.Otp.Request.PostAsync(new OtpRequestBody { Email = email });
    Console.WriteLine("awaiting-code");
    var code = Console.ReadLine() ?? throw new InvalidOperationException("No code on standard input.");
    var signedIn = await api.Auth.Otp.Verify.PostAsync(new OtpVerifyBody { OtpToken = requested!.OtpToken, Code = code.Trim() });
    tokens.AccessToken = signedIn!.AccessToken;

    var walletBefore = await api.Wallet.GetAsync();
    var created = await api.Generations.PostAsync(
        new GenerationBody { Type = "text", Prompt = prompt },
        request => request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString()));
    // The id goes back exactly as the API typed it: the client's indexer takes the same type as the view's id.
    var id = created!.Id ?? throw new InvalidOperationException("The created generation has no id.");
    var generation = created;
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
    while (generation.Status is GenerationStatus.Queued or GenerationStatus.Running && DateTime.UtcNow < deadline)
    {
        await Task.Delay(250);
        generation = (await api.Generations[id].GetAsync())!;
    }

    var walletAfter = await api.Wallet.GetAsync();
    // Each answer as the generated models read it, written back by Kiota's own serializer: a field the models lost is missing here.
    var seen = new JsonObject();
    foreach (var (name, answer) in new (string, IParsable?)[]
    {
        ("requested", requested), ("signed_in", signedIn), ("wallet_before", walletBefore), ("created", created),
        ("generation", generation), ("wallet_after", walletAfter),
    })
    {
        seen[name] = JsonNode.Parse(await KiotaJsonSerializer.SerializeAsStringAsync(answer!));
    }

    Console.WriteLine(seen.ToJsonString());
    return 0;
}
catch (ErrorPayload error)
{
    await Console.Error.WriteLineAsync($"The API answered {error.ResponseStatusCode}: {await KiotaJsonSerializer.SerializeAsStringAsync(error)}");
    return 1;
}

