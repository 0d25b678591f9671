using System.Net;
using System.Net.Sockets;

namespace Apptork.Root.Tests.Infrastructure.Hosting;

/// <summary>HTTP clients whose connections come from a chosen loopback address (127.0.0.3, 127.0.0.4…), as different machines would.</summary>
public static class ClientFrom
{
    public static HttpClient Address(IPAddress source, Uri baseAddress)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    public static HttpClient Address(string source, Uri baseAddress) => Address(IPAddress.Parse(source), baseAddress);
}
