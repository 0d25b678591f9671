using Apptork.Root.Platform.Errors;
using Apptork.Root.Platform.Pagination;
using Apptork.Root.Platform.Validation;
using Apptork.Root.Tests.Infrastructure.Hosting;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Apptork.Root.Tests.Platform.Errors;

/// <summary>
/// Test-only routes that provoke each kind of failure through the product's real pipeline: body binding and
/// validation, an unexpected exception, bare statuses from the framework, a throttle, pagination input.
/// </summary>
public static class ErrorProbe
{
    public const string SecretInException = "connection refused for password=hunter2";

    public static RootApp.TestExtensions Extensions { get; } = new(
        endpoints =>
        {
            var probe = endpoints.MapGroup("/__probe");
            probe.MapPost("/orders", (ProbeOrder order) => TypedResults.Ok(order)).Validate<ProbeOrder>();
            probe.MapGet("/boom", string () => throw new InvalidOperationException(SecretInException));
            probe.MapGet("/status/{code:int}", (int code) => Results.StatusCode(code));
            probe.MapGet("/throttled", string () => throw new ApiException(
                [ErrorCatalog.Throttled.At(null, new Dictionary<string, object?> { ["wait"] = 42 })], TimeSpan.FromSeconds(42)));
            probe.MapGet("/count", (int count) => count);
            probe.MapGet("/page", (PageRequest page) => page);
        },
        services => services.AddSingleton<IValidator<ProbeOrder>, ProbeOrderValidator>());

    public sealed record ProbeOrder(string? CustomerName, IReadOnlyList<ProbeItem>? Items, DateTimeOffset PlacedAt);

    public sealed record ProbeItem(string? Name, int Quantity);

    private sealed class ProbeOrderValidator : AbstractValidator<ProbeOrder>
    {
        public ProbeOrderValidator()
        {
            RuleFor(order => order.CustomerName).NotEmpty().MaximumLength(20);
            RuleFor(order => order.Items).NotNull();
            RuleForEach(order => order.Items).ChildRules(item =>
            {
                item.RuleFor(line => line.Name).NotEmpty().MaximumLength(10);
                item.RuleFor(line => line.Quantity).GreaterThanOrEqualTo(1);
            });
        }
    }
}
