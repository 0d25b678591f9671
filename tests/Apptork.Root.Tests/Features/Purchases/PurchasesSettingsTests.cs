using Apptork.Root.Tests.Infrastructure.Hosting;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Purchases;

public sealed class PurchasesSettingsTests
{
    private const string KeyWithHttpTokenUri =
        "{\"type\":\"service_account\",\"client_email\":\"a@b.iam.gserviceaccount.com\",\"private_key\":\"x\",\"token_uri\":\"http://oauth.example/token\"}";

    [Theory]
    [InlineData("Purchases__Apple__TestRootCertificate=ROOT", "Purchases__Apple__TestRootCertificate is set while ASPNETCORE_ENVIRONMENT is Production")]
    [InlineData("Payments__Provider=AppStore", "Payments__Provider is 'AppStore', which is not one of None, Development, Stripe.")]
    [InlineData("Purchases__Google__PackageName=com.apptork.tests", "Purchases__Google__PackageName and Purchases__Google__ServiceAccountKey go together")]
    [InlineData("Purchases__Google__PackageName=com.apptork.tests;Purchases__Google__ServiceAccountKey=not json",
        "Purchases__Google__ServiceAccountKey is not a service account's JSON key (not JSON)")]
    [InlineData("Purchases__Google__PackageName=com.apptork.tests;Purchases__Google__ServiceAccountKey=" + KeyWithHttpTokenUri,
        "Purchases__Google__ServiceAccountKey's token_uri must use https in the production shape")]
    [InlineData("Purchases__Google__NotificationAudience=https://a.example/push", "Purchases__Google__NotificationServiceAccount is required with Purchases__Google__NotificationAudience")]
    public async Task Production_refuses_a_test_root_a_store_as_card_provider_and_half_or_unsafe_google_settings(string settings, string expected)
    {
        using var apple = AppStoreSigner.Create();
        var output = await RootProcess.RefusedStartAsync(settings.Split(';').Select(setting => setting.Split('=', 2))
            .Select(pair => KeyValuePair.Create(pair[0], pair[1] == "ROOT" ? apple.RootPem : pair[1])));
        output.ShouldContain(expected);
    }
}
