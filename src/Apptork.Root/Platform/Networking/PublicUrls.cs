using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Apptork.Root.Platform.Networking;

/// <summary>
/// Makes the absolute URLs the API hands out. They start with <c>Http__PublicBaseUrl</c>; in the embedded shape, without
/// it, with the address this process listens on. Never with the request's <c>Host</c>: a client could point a link
/// signed for someone else at a server of its own.
/// </summary>
public sealed class PublicUrls(IOptions<PublicUrlOptions> options, IServer server)
{
    private readonly Lazy<string> baseUrl = new(() => (options.Value.BaseUri?.AbsoluteUri ?? ListeningAddress(server)).TrimEnd('/'));

    /// <param name="pathAndQuery">A path from the application's root, with its query if any: <c>/files/local/abc</c>.</param>
    public Uri Absolute(string pathAndQuery) =>
        pathAndQuery.StartsWith('/')
            ? new Uri(baseUrl.Value + pathAndQuery, UriKind.Absolute)
            : throw new ArgumentException($"'{pathAndQuery}' is not a path from the application's root.", nameof(pathAndQuery));

    /// <summary>
    /// The first address the server listens on, known once it started (a port of 0 is chosen then). A wildcard address
    /// (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>) is no address to call: it becomes <c>localhost</c>.
    /// </summary>
    private static string ListeningAddress(IServer server)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The server listens on no address yet: absolute URLs are made while answering a request.");
        var binding = BindingAddress.Parse(address);
        var host = binding.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*" ? "localhost" : binding.Host;
        return $"{binding.Scheme}://{host}:{binding.Port}{binding.PathBase}";
    }
}
