using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Validation;
using Apptork.Root.Tests.Infrastructure.Categories;
using FluentValidation.Results;
using Shouldly;
using Xunit;

namespace Apptork.Root.Tests.Platform.Validation;

[Fast]
public sealed class ValidationFilterTests
{
    [Theory]
    [InlineData("DisplayName", "display_name")]
    [InlineData("Items[0].DisplayName", "items.0.display_name")]
    public void A_rule_on_a_known_property_names_it_in_snake_case(string propertyName, string attr) =>
        ValidationFilter<object>.ToApiError(new ValidationFailure(propertyName, "Too long.") { ErrorCode = "invalid" }).Attr.ShouldBe(attr);

    [Theory]
    [InlineData("displayName")]
    [InlineData("Avatar.Url")]
    [InlineData("nick_name")]
    public void An_unknown_field_is_named_exactly_as_the_client_sent_it(string key) =>
        ValidationFilter<object>.ToApiError(new ValidationFailure(key, "Unknown field.") { ErrorCode = ErrorCatalog.UnknownField.Code })
            .ShouldSatisfyAllConditions(
                error => error.Definition.ShouldBe(ErrorCatalog.UnknownField),
                error => error.Attr.ShouldBe(key));
}
