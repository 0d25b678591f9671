using Apptork.Root.Platform.Observability;
using Apptork.Root.Tests.Infrastructure.Categories;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Observability;

[Fast]
public sealed class SecretScrubberTests
{
    private const string Token = "Zm9vYmFyLXNlY3JldC10b2tlbi10aGF0LWlzLWxvbmctZW5vdWdo";

    [Theory]
    [InlineData("GET https://bucket.s3.example.com/users/1/2?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123def456 failed", "GET https://bucket.s3.example.com/users/1/2?[Filtered] failed")]
    [InlineData("PUT http://127.0.0.1:8000/files/local/CfDJ8abc-_def/ refused", "PUT http://127.0.0.1:8000/files/local/[Filtered]/ refused")]
    [InlineData("GET /api/v1/generations/42/events?token=abc.def", "GET /api/v1/generations/42/events?[Filtered]")]
    [InlineData("Authorization: Bearer abc.def.ghi", "Authorization: Bearer [Filtered]")]
    [InlineData("Stripe-Signature: t=1700000000,v1=5257a869", "Stripe-Signature: [Filtered]")]
    [InlineData("refresh_token=abc&x=1", "refresh_token=[Filtered]&x=1")]
    [InlineData("""{"refresh_token":"abc","code":"123456","email":"x"}""", """{"refresh_token":"[Filtered]","code":"[Filtered]","email":"x"}""")]
    [InlineData("the code: 482913 was wrong", "the code: [Filtered] was wrong")]
    [InlineData("sent to someone.else+tag@example.co.uk today", "sent to [Filtered] today")]
    [InlineData("token " + Token + " expired", "token [Filtered] expired")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature_", "[Filtered]")]
    public void Removes_tokens_codes_signatures_and_addresses_from_text(string text, string scrubbed) =>
        SecretScrubber.Scrub(text).ShouldBe(scrubbed);

    [Theory]
    [InlineData("correlation id corr-0123456789abcdef0123456789abcdef, user 01a24c31-ffde-748d-973e-05c86720c3be")]
    [InlineData("Job FailingJob.RunAsync failed at attempt 2 of 3")]
    public void Leaves_ids_and_ordinary_text_as_they_are(string text) => SecretScrubber.Scrub(text).ShouldBe(text);

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("Cookie", true)]
    [InlineData("Stripe-Signature", true)]
    [InlineData("X-Amz-Security-Token", true)]
    [InlineData("refreshToken", true)]
    [InlineData("otp_token", true)]
    [InlineData("code", true)]
    [InlineData("marker", false)]
    [InlineData("X-Correlation-Id", false)]
    [InlineData("Content-Type", false)]
    public void Knows_secret_names(string name, bool secret) => SecretScrubber.IsSecretName(name).ShouldBe(secret);
}
