using Xunit;

namespace Apptork.Root.Tests.Infrastructure.Fleet;

/// <summary>
/// The test classes that start a <see cref="RootFleet"/>: one at a time. Two fleets starting together are ten .NET
/// processes starting on two cores; one after the other, each is ready sooner and the timings they check mean more.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OneFleetAtATime
{
    public const string Name = "Fleet";
}
