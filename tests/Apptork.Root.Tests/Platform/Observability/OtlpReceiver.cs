using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Apptork.Root.Tests.Infrastructure.Servers;

namespace Apptork.Root.Tests.Platform.Observability;

/// <summary>One span as the OTLP exporter sent it, ids in lowercase hex.</summary>
public sealed record ExportedSpan(
    string TraceId, string SpanId, string ParentSpanId, string Name, ExportedSpanKind Kind, IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<(string TraceId, string SpanId)> Links, int StatusCode, IReadOnlyDictionary<string, object?> Resource);

/// <summary>OTLP's <c>Span.SpanKind</c> numbers.</summary>
public enum ExportedSpanKind
{
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

/// <summary>One data point of one metric: a sum's or gauge's value, or a histogram's count.</summary>
public sealed record ExportedPoint(string Metric, IReadOnlyDictionary<string, object?> Attributes, double Value, IReadOnlyDictionary<string, object?> Resource);

/// <summary>
/// An OTLP/HTTP collector on a local port: takes <c>POST /v1/traces</c> and <c>/v1/metrics</c> with protobuf bodies, as
/// the .NET exporter sends them, and decodes them by the field numbers of opentelemetry-proto. On HttpListener rather
/// than Kestrel: the application's tracer listens to every ASP.NET Core host in the process, and would trace its own
/// exports arriving here.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task serving;

    private OtlpReceiver()
    {
        Endpoint = $"http://127.0.0.1:{ServerHost.FreeLoopbackPort()}";
        listener.Prefixes.Add($"{Endpoint}/");
        listener.Start();
        serving = Task.Run(ServeAsync);
    }

    /// <summary>What to set <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> to.</summary>
    public string Endpoint { get; }

    public ConcurrentQueue<ExportedSpan> Spans { get; } = new();

    /// <summary>Every point of every export, in arrival order: with cumulative temporality the last one of a series is its total.</summary>
    public ConcurrentQueue<ExportedPoint> Points { get; } = new();

    public static OtlpReceiver Start() => new();

    /// <summary>The latest value of a metric's series whose attributes include <paramref name="attributes"/>; null before any export of it.</summary>
    public double? Latest(string metric, params (string Key, object? Value)[] attributes) =>
        Points.Where(point => point.Metric == metric && attributes.All(wanted => Equals(point.Attributes.GetValueOrDefault(wanted.Key), wanted.Value)))
            .Select(point => (double?)point.Value).LastOrDefault();

    /// <summary>What arrived, for a failing test's message.</summary>
    public string Describe() =>
        $"{Spans.Count} span(s): {string.Join("; ", Spans.Where(span => !span.Name.Contains("/v1/", StringComparison.Ordinal)).Take(60).Select(span => $"{span.Kind} '{span.Name}' {span.TraceId}/{span.SpanId} <- {span.ParentSpanId}"))}; "
        + $"metrics: {string.Join(", ", Points.Select(point => point.Metric).Distinct())}";

    public async ValueTask DisposeAsync()
    {
        listener.Close();
        await serving;
    }

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception exception) when (exception is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var body = await ReadBodyAsync(context.Request);
            switch (context.Request.Url?.AbsolutePath)
            {
                case "/v1/traces":
                    foreach (var span in DecodeTraces(body))
                    {
                        Spans.Enqueue(span);
                    }

                    break;
                case "/v1/metrics":
                    foreach (var point in DecodeMetrics(body))
                    {
                        Points.Enqueue(point);
                    }

                    break;
                default:
                    context.Response.StatusCode = 404;
                    break;
            }

            context.Response.Close();
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpListenerRequest request)
    {
        await using var body = request.Headers["Content-Encoding"] == "gzip" ? new GZipStream(request.InputStream, CompressionMode.Decompress) : request.InputStream;
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    // ExportTraceServiceRequest: resource_spans = 1 { resource = 1 { attributes = 1 }, scope_spans = 2 { spans = 2 } }.
    private static IEnumerable<ExportedSpan> DecodeTraces(byte[] body)
    {
        foreach (var resourceSpans in new ProtobufMessage(body).Messages(1))
        {
            var resource = Attributes(resourceSpans.Message(1), 1);
            foreach (var span in resourceSpans.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                // Span: trace_id 1, span_id 2, parent_span_id 4, name 5, kind 6, attributes 9, links 13 { trace_id 1, span_id 2 }, status 15 { code 3 }.
                yield return new ExportedSpan(
                    Hex(span.Bytes(1)), Hex(span.Bytes(2)), Hex(span.Bytes(4)), span.Text(5) ?? string.Empty, (ExportedSpanKind)span.Number(6),
                    Attributes(span, 9), span.Messages(13).Select(link => (Hex(link.Bytes(1)), Hex(link.Bytes(2)))).ToList(),
                    (int)(span.Message(15)?.Number(3) ?? 0), resource);
            }
        }
    }

    // ExportMetricsServiceRequest: resource_metrics = 1 { resource = 1, scope_metrics = 2 { metrics = 2 } }.
    private static IEnumerable<ExportedPoint> DecodeMetrics(byte[] body)
    {
        foreach (var resourceMetrics in new ProtobufMessage(body).Messages(1))
        {
            var resource = Attributes(resourceMetrics.Message(1), 1);
            foreach (var metric in resourceMetrics.Messages(2).SelectMany(scope => scope.Messages(2)))
            {
                // Metric: name 1, gauge 5, sum 7, histogram 9; each holds data_points = 1.
                var name = metric.Text(1) ?? string.Empty;
                foreach (var point in (metric.Message(5) ?? metric.Message(7))?.Messages(1) ?? [])
                {
                    // NumberDataPoint: as_double 4 (fixed64), as_int 6 (sfixed64), attributes 7.
                    var value = point.Has(4) ? BitConverter.Int64BitsToDouble((long)point.Number(4)) : (long)point.Number(6);
                    yield return new ExportedPoint(name, Attributes(point, 7), value, resource);
                }

                foreach (var point in metric.Message(9)?.Messages(1) ?? [])
                {
                    // HistogramDataPoint: count 4 (fixed64), attributes 9.
                    yield return new ExportedPoint(name, Attributes(point, 9), point.Number(4), resource);
                }
            }
        }
    }

    // KeyValue: key 1, value 2 = AnyValue { string_value 1, bool_value 2, int_value 3, double_value 4 }.
    private static Dictionary<string, object?> Attributes(ProtobufMessage? owner, int field) =>
        (owner?.Messages(field) ?? []).ToDictionary(
            pair => pair.Text(1) ?? string.Empty,
            pair => pair.Message(2) is not { } value ? null
                : value.Has(1) ? value.Text(1)
                : value.Has(2) ? value.Number(2) != 0
                : value.Has(3) ? (long)value.Number(3)
                : value.Has(4) ? BitConverter.Int64BitsToDouble((long)value.Number(4))
                : (object?)null);

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
