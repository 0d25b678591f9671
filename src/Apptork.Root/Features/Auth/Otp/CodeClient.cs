using Apptork.Root.Platform.Callers;
using Apptork.Root.Platform.Networking;

namespace Apptork.Root.Features.Auth.Otp;

/// <summary>
/// Who asks for or tries a code, as the per-client code budgets see it: the client's IP partition (IPv4 address or IPv6
/// /64, after trusted proxies), and the hashed <c>X-Device-Id</c> when one was sent.
/// </summary>
/// <remarks>
/// Each is a budget of its own and a client must have both left: the IP is what an attacker cannot choose, so rotating
/// device ids buys nothing; the device id only narrows a budget further, never widens it.
/// </remarks>
public sealed record CodeClient(string IpPartition, string? DeviceIdHash)
{
    public static CodeClient From(HttpContext context) =>
        new(ClientAddress.PartitionOf(context.Connection.RemoteIpAddress), ClientInfo.From(context).DeviceIdHash);

    /// <summary>The throttle partitions of this client for one canonical address.</summary>
    public IEnumerable<string> PartitionsFor(string emailKey)
    {
        yield return $"{emailKey}|ip:{IpPartition}";
        if (DeviceIdHash is not null)
        {
            yield return $"{emailKey}|device:{DeviceIdHash}";
        }
    }
}
