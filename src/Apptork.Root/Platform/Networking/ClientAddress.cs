using System.Net;
using System.Net.Sockets;

namespace Apptork.Root.Platform.Networking;

/// <summary>The client's address as limits see it, after the trusted proxies' <c>X-Forwarded-For</c> was applied.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The partition of per-IP limits: the IPv4 address, or the IPv6 /64 network, because one IPv6 subscriber is handed a
    /// whole /64 and could otherwise take a fresh address (and a fresh limit) for every request.
    /// </summary>
    public static string PartitionOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{new IPAddress(bytes)}/64";
    }
}
