using Apptork.Root.Features.Messages;
using Apptork.Root.Tests.Infrastructure.Categories;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Features.Messages;

[Trait(Category.Trait, Category.Fast)]
public sealed class AppVersionTests
{
    [Theory]
    [InlineData("1.10.0", "1.9.9")]
    [InlineData("2", "1.99.99")]
    [InlineData("1.2.3", "1.2.3-beta.1")]
    [InlineData("1.2.3-beta.2", "1.2.3-beta.1")]
    [InlineData("1.0.10", "1.0.9")]
    public void Versions_are_ordered_by_their_numbers_not_their_text(string higher, string lower) =>
        AppVersion.Parse(higher).ShouldNotBeNull().ShouldBeGreaterThan(AppVersion.Parse(lower).ShouldNotBeNull());

    [Theory]
    [InlineData("1.2.3+456", "1.2.3")]
    [InlineData("1.2", "1.2.0")]
    [InlineData(" 3 ", "3.0.0")]
    public void Build_metadata_and_missing_parts_change_nothing(string version, string same) =>
        AppVersion.Parse(version).ShouldBe(AppVersion.Parse(same));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("banana")]
    [InlineData("1.2.3.4")]
    [InlineData("1..2")]
    [InlineData("-1.0")]
    [InlineData("1.0-")]
    [InlineData("v1.2")]
    [InlineData("99999999999.0")]
    public void Anything_else_is_unknown(string? version) => AppVersion.Parse(version).ShouldBeNull();
}
