using Apptork.Root.Platform.Callers;
using Apptork.Root.Tests.Infrastructure.Categories;
using Semver;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Callers;

/// <summary>The one reading of <c>X-App-Version</c> that flags and messages target by.</summary>
[Fast]
public sealed class AppVersionsTests
{
    [Theory]
    [InlineData("1.10.0", "1.9.9")]
    [InlineData("2", "1.99.99")]
    [InlineData("1.2.3", "1.2.3-beta.1")]
    [InlineData("1.2.3-beta.2", "1.2.3-beta.1")]
    [InlineData("1.0.10", "1.0.9")]
    public void Versions_are_ordered_by_their_numbers_not_their_text(string higher, string lower) =>
        SemVersion.ComparePrecedence(AppVersions.Parse(higher).ShouldNotBeNull(), AppVersions.Parse(lower).ShouldNotBeNull()).ShouldBePositive();

    [Theory]
    [InlineData("1.2.3+456", "1.2.3")]
    [InlineData("1.2", "1.2.0")]
    [InlineData(" 3 ", "3.0.0")]
    [InlineData("v1.2.3", "1.2.3")]
    public void Build_metadata_missing_parts_and_a_v_change_nothing(string version, string same) =>
        SemVersion.ComparePrecedence(AppVersions.Parse(version).ShouldNotBeNull(), AppVersions.Parse(same).ShouldNotBeNull()).ShouldBe(0);

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("banana")]
    [InlineData("1.2.3.4")]
    [InlineData("1..2")]
    [InlineData("-1.0")]
    [InlineData("1.0-")]
    [InlineData("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0")]
    public void Anything_else_is_unknown(string? version) => AppVersions.Parse(version).ShouldBeNull();

    [Theory]
    [InlineData("1.9.9", null, null, true)]
    [InlineData(null, null, null, true)]
    [InlineData(null, "1.0.0", null, false)]
    [InlineData("1.9.9", "1.10.0", null, false)]
    [InlineData("1.10.0", "1.10.0", "2.0.0", true)]
    [InlineData("2.0.0", "1.10.0", "2.0.0", true)]
    [InlineData("2.0.1", "1.10.0", "2.0.0", false)]
    public void A_range_includes_both_bounds_and_never_an_unknown_version(string? version, string? min, string? max, bool inRange) =>
        AppVersions.InRange(AppVersions.Parse(version), AppVersions.Parse(min), AppVersions.Parse(max)).ShouldBe(inRange);
}
